// SPDX-License-Identifier: BSD-3-Clause
// The real implementation of the seam.
#include <keyutils.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>

#include "pam_keyinit/system.h"
#include "pam_keyinit/thread_ids.h"

namespace pam_keyinit {
namespace {

long errno_result(long result) noexcept {
    return result < 0 ? -errno : result;
}

int get_user(void*, pam_handle_t* pamh, const char** user) {
    return pam_get_user(pamh, user, nullptr);
}

// getpwnam_r() tells "no such user" (0 with no entry) from a failure of
// the user database (an errno), which pam_modutil_getpwnam() does not: it
// returns null for both and leaves errno as NSS happened to leave it.
int lookup_user(void*, pam_handle_t*, const char* name, UserIds* ids) {
    // Enough for any passwd line of the files database; NSS sources with
    // longer entries say ERANGE, and the buffer grows.
    constexpr std::size_t first_size = 4096;
    constexpr std::size_t largest_size = 1 << 20;
    char first[first_size];
    char* buffer = first;
    std::size_t size = first_size;
    int status = 0;
    struct passwd entry {};
    struct passwd* found = nullptr;
    for (;;) {
        status = getpwnam_r(name, &entry, buffer, size, &found);
        if (status != ERANGE || size >= largest_size) {
            break;
        }
        size *= 2;
        char* larger = static_cast<char*>(std::realloc(buffer == first ? nullptr : buffer, size));
        if (larger == nullptr) {
            status = ENOMEM;
            break;
        }
        buffer = larger;
    }
    if (found != nullptr) {
        *ids = {entry.pw_uid, entry.pw_gid};
    }
    if (buffer != first) {
        std::free(buffer);
    }
    if (found != nullptr) {
        return 0;
    }
    // Some NSS modules say ENOENT for a missing entry, as getpwnam_r(3) allows.
    return status == 0 || status == ENOENT ? -ENOENT : -status;
}

int get_data(void*, const pam_handle_t* pamh, const char* name, const void** data) {
    return pam_get_data(pamh, name, data);
}

int set_data(void*, pam_handle_t* pamh, const char* name, void* data,
             void (*cleanup)(pam_handle_t*, void*, int)) {
    return pam_set_data(pamh, name, data, cleanup);
}

void vlog(void*, const pam_handle_t* pamh, int priority, const char* format, va_list args) {
    pam_vsyslog(pamh, priority, format, args);
}

void* allocate(void*, std::size_t size) {
    return std::calloc(1, size);
}

// setfsuid() and setfsgid() change nothing when given -1 and return the ID
// the thread has: the only way to read it.
uid_t current_fsuid() {
    return static_cast<uid_t>(syscall(thread_ids::setfsuid_call, static_cast<uid_t>(-1)));
}

gid_t current_fsgid() {
    return static_cast<gid_t>(syscall(thread_ids::setfsgid_call, static_cast<gid_t>(-1)));
}

int get_thread_ids(void*, ThreadIds* ids) {
    if (getresuid(&ids->ruid, &ids->euid, &ids->suid) < 0 ||
        getresgid(&ids->rgid, &ids->egid, &ids->sgid) < 0) {
        return -errno;
    }
    ids->fsuid = current_fsuid();
    ids->fsgid = current_fsgid();
    return 0;
}

// glibc's setresuid()/setresgid() broadcast the change to every thread of
// the process (POSIX semantics); the raw system calls change only this one.
// The system call numbers come from pam_keyinit/thread_ids.h, which picks
// the calls that take 32-bit IDs on every architecture.
int set_thread_uids(void*, uid_t ruid, uid_t euid, uid_t suid) {
    return static_cast<int>(errno_result(syscall(thread_ids::setresuid_call, ruid, euid, suid)));
}

int set_thread_gids(void*, gid_t rgid, gid_t egid, gid_t sgid) {
    return static_cast<int>(errno_result(syscall(thread_ids::setresgid_call, rgid, egid, sgid)));
}

// setfsuid() and setfsgid() return the old ID whether or not they changed
// it (and act on this thread only, glibc's wrappers included): read back.
int set_thread_fsuid(void*, uid_t fsuid) {
    syscall(thread_ids::setfsuid_call, fsuid);
    return current_fsuid() == fsuid ? 0 : -EPERM;
}

int set_thread_fsgid(void*, gid_t fsgid) {
    syscall(thread_ids::setfsgid_call, fsgid);
    return current_fsgid() == fsgid ? 0 : -EPERM;
}

long keyring_id(void*, KeySerial special) {
    return errno_result(keyctl_get_keyring_ID(special, 0));
}

long describe_key(void*, KeySerial key, char* buffer, std::size_t size) {
    return errno_result(keyctl_describe(key, buffer, size));
}

long join_new_session_keyring(void*) {
    return errno_result(keyctl_join_session_keyring(nullptr));
}

long link_key(void*, KeySerial key, KeySerial keyring) {
    return errno_result(keyctl_link(key, keyring));
}

long revoke_key(void*, KeySerial key) {
    return errno_result(keyctl_revoke(key));
}

long link_persistent_keyring(void*, KeySerial keyring) {
    // -1 is "the caller's real UID", which is the target user's here.
    return errno_result(keyctl_get_persistent(static_cast<uid_t>(-1), keyring));
}

constinit const SystemCalls kernel_calls = {
    .get_user = get_user,
    .lookup_user = lookup_user,
    .get_data = get_data,
    .set_data = set_data,
    .vlog = vlog,
    .allocate = allocate,
    .get_thread_ids = get_thread_ids,
    .set_thread_uids = set_thread_uids,
    .set_thread_gids = set_thread_gids,
    .set_thread_fsuid = set_thread_fsuid,
    .set_thread_fsgid = set_thread_fsgid,
    .keyring_id = keyring_id,
    .describe_key = describe_key,
    .join_new_session_keyring = join_new_session_keyring,
    .link_key = link_key,
    .revoke_key = revoke_key,
    .link_persistent_keyring = link_persistent_keyring,
};

// The kernel needs no context.
constinit const System kernel = {&kernel_calls, nullptr};

}  // namespace

const System& kernel_system() noexcept {
    return kernel;
}

}  // namespace pam_keyinit
