// SPDX-License-Identifier: BSD-3-Clause
// The system calls that set one thread's real, effective, saved and
// filesystem IDs.
//
// On architectures whose first Linux ABI had 16-bit user and group IDs
// (i386, arm, m68k, 31-bit s390, sh, sparc32) the plain setresuid and
// setresgid system calls still take 16-bit IDs: an ID above 65535 is cut to
// its low 16 bits, so UID 65536 becomes root. Those architectures have
// setresuid32 and setresgid32 for full IDs, and where they exist they are
// the right calls. Architectures that never had 16-bit IDs (x86_64, arm64,
// s390x, ppc64el, riscv64, mips, ...) have only the plain calls, and those
// take full IDs. glibc makes the same choice in its own wrappers; we cannot
// use those wrappers, since they change every thread of the process.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>

namespace pam_keyinit::thread_ids {

static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4,
              "Linux user and group IDs are 32 bits wide");

#if defined(SYS_setresuid32) && defined(SYS_setresgid32)
inline constexpr long setresuid_call = SYS_setresuid32;
inline constexpr long setresgid_call = SYS_setresgid32;
inline constexpr long setfsuid_call = SYS_setfsuid32;
inline constexpr long setfsgid_call = SYS_setfsgid32;
// What glibc's getresuid() calls there (tests fail it by number).
inline constexpr long getresuid_call = SYS_getresuid32;
#elif defined(SYS_setresuid32) || defined(SYS_setresgid32)
#error "only one of setresuid32 and setresgid32 is defined: unknown architecture"
#elif defined(__i386__) || defined(__arm__) || defined(__m68k__) ||  \
    (defined(__s390__) && !defined(__s390x__)) || defined(__sh__) || \
    (defined(__sparc__) && !defined(__arch64__))
// These architectures' plain calls take 16-bit IDs: without the *32 calls
// in the headers, a session could run as the wrong user.
#error "this architecture has 16-bit setresuid; its headers must define SYS_setresuid32"
#elif defined(SYS_setresuid) && defined(SYS_setresgid)
inline constexpr long setresuid_call = SYS_setresuid;
inline constexpr long setresgid_call = SYS_setresgid;
inline constexpr long setfsuid_call = SYS_setfsuid;
inline constexpr long setfsgid_call = SYS_setfsgid;
inline constexpr long getresuid_call = SYS_getresuid;
#else
#error "no setresuid system call known for this architecture"
#endif

}  // namespace pam_keyinit::thread_ids
