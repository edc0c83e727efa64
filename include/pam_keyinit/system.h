// SPDX-License-Identifier: BSD-3-Clause
// The one seam between the module's logic and the outside world: libpam,
// the passwd database, the thread's credentials and the kernel's keyrings.
// The module uses kernel_system(); tests put a fake here so that any call
// can fail with any errno.
#pragma once

#include <security/pam_modules.h>
#include <sys/types.h>

#include <cstdarg>
#include <cstddef>

#include "pam_keyinit/decision.h"

namespace pam_keyinit {

// The calling thread's real, effective, saved and filesystem IDs. The kernel
// sets the filesystem IDs to the effective ones on every setresuid() and
// setresgid(), so a host that chose others (setfsuid(2)) needs them put back.
struct ThreadIds {
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    uid_t fsuid;
    gid_t fsgid;

    friend bool operator==(const ThreadIds&, const ThreadIds&) = default;
};

struct UserIds {
    uid_t uid;
    gid_t gid;
};

// Every call that can fail returns a negative errno (or a PAM code, where
// libpam is behind it) instead of setting errno. Each takes the context of
// the System it belongs to first, so that a fake keeps its world there.
struct SystemCalls {
    // libpam
    int (*get_user)(void* context, pam_handle_t* pamh, const char** user);
    // 0, -ENOENT for no such user, or the negative errno the user database
    // failed with.
    int (*lookup_user)(void* context, pam_handle_t* pamh, const char* name, UserIds* ids);
    int (*get_data)(void* context, const pam_handle_t* pamh, const char* name, const void** data);
    int (*set_data)(void* context, pam_handle_t* pamh, const char* name, void* data,
                    void (*cleanup)(pam_handle_t*, void*, int));
    void (*vlog)(void* context, const pam_handle_t* pamh, int priority, const char* format,
                 va_list args);
    // Zeroed memory that the C library's free() releases, or null.
    void* (*allocate)(void* context, std::size_t size);

    // The calling thread's credentials. The setters change this thread only.
    int (*get_thread_ids)(void* context, ThreadIds* ids);
    int (*set_thread_uids)(void* context, uid_t ruid, uid_t euid, uid_t suid);
    int (*set_thread_gids)(void* context, gid_t rgid, gid_t egid, gid_t sgid);
    int (*set_thread_fsuid)(void* context, uid_t fsuid);
    int (*set_thread_fsgid)(void* context, gid_t fsgid);

    // Keyrings: a key serial (>= 0) or a negative errno.
    long (*keyring_id)(void* context, KeySerial special);
    long (*describe_key)(void* context, KeySerial key, char* buffer, std::size_t size);
    long (*join_new_session_keyring)(void* context);
    long (*link_key)(void* context, KeySerial key, KeySerial keyring);
    long (*revoke_key)(void* context, KeySerial key);
    long (*link_persistent_keyring)(void* context, KeySerial keyring);
};

// The calls and their context: the module's code calls system.keyring_id(...)
// and never sees the context. Two Systems with two contexts coexist.
struct System {
    const SystemCalls* calls;
    void* context;

    int get_user(pam_handle_t* pamh, const char** user) const {
        return calls->get_user(context, pamh, user);
    }
    int lookup_user(pam_handle_t* pamh, const char* name, UserIds* ids) const {
        return calls->lookup_user(context, pamh, name, ids);
    }
    int get_data(const pam_handle_t* pamh, const char* name, const void** data) const {
        return calls->get_data(context, pamh, name, data);
    }
    int set_data(pam_handle_t* pamh, const char* name, void* data,
                 void (*cleanup)(pam_handle_t*, void*, int)) const {
        return calls->set_data(context, pamh, name, data, cleanup);
    }
    void vlog(const pam_handle_t* pamh, int priority, const char* format, va_list args) const {
        calls->vlog(context, pamh, priority, format, args);
    }
    void* allocate(std::size_t size) const { return calls->allocate(context, size); }
    int get_thread_ids(ThreadIds* ids) const { return calls->get_thread_ids(context, ids); }
    int set_thread_uids(uid_t ruid, uid_t euid, uid_t suid) const {
        return calls->set_thread_uids(context, ruid, euid, suid);
    }
    int set_thread_gids(gid_t rgid, gid_t egid, gid_t sgid) const {
        return calls->set_thread_gids(context, rgid, egid, sgid);
    }
    int set_thread_fsuid(uid_t fsuid) const { return calls->set_thread_fsuid(context, fsuid); }
    int set_thread_fsgid(gid_t fsgid) const { return calls->set_thread_fsgid(context, fsgid); }
    long keyring_id(KeySerial special) const { return calls->keyring_id(context, special); }
    long describe_key(KeySerial key, char* buffer, std::size_t size) const {
        return calls->describe_key(context, key, buffer, size);
    }
    long join_new_session_keyring() const { return calls->join_new_session_keyring(context); }
    long link_key(KeySerial key, KeySerial keyring) const {
        return calls->link_key(context, key, keyring);
    }
    long revoke_key(KeySerial key) const { return calls->revoke_key(context, key); }
    long link_persistent_keyring(KeySerial keyring) const {
        return calls->link_persistent_keyring(context, keyring);
    }
};

const System& kernel_system() noexcept;

}  // namespace pam_keyinit
