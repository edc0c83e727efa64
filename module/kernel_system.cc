// SPDX-License-Identifier: BSD-3-Clause
// The real implementation of the seam.
#include <keyutils.h>
#include <security/pam_ext.h>
#include <security/pam_modutil.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
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

int lookup_user(void*, pam_handle_t* pamh, const char* name, UserIds* ids) {
    errno = 0;
    const struct passwd* entry = pam_modutil_getpwnam(pamh, name);
    if (entry == nullptr) {
        // A missing entry leaves errno as NSS found it; only a failure to
        // allocate is worth telling apart from "no such user".
        return errno == ENOMEM ? -ENOMEM : -ENOENT;
    }
    *ids = {entry->pw_uid, entry->pw_gid};
    return 0;
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

int get_thread_ids(void*, ThreadIds* ids) {
    if (getresuid(&ids->ruid, &ids->euid, &ids->suid) < 0 ||
        getresgid(&ids->rgid, &ids->egid, &ids->sgid) < 0) {
        return -errno;
    }
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
