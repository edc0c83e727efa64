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

// The calling thread's real, effective and saved IDs.
struct ThreadIds {
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;

    friend bool operator==(const ThreadIds&, const ThreadIds&) = default;
};

struct UserIds {
    uid_t uid;
    gid_t gid;
};

// Every call that can fail returns a negative errno (or a PAM code, where
// libpam is behind it) instead of setting errno.
struct System {
    // libpam
    int (*get_user)(pam_handle_t* pamh, const char** user);
    // 0, -ENOENT for no such user, or another negative errno.
    int (*lookup_user)(pam_handle_t* pamh, const char* name, UserIds* ids);
    int (*get_data)(const pam_handle_t* pamh, const char* name, const void** data);
    int (*set_data)(pam_handle_t* pamh, const char* name, void* data,
                    void (*cleanup)(pam_handle_t*, void*, int));
    void (*vlog)(const pam_handle_t* pamh, int priority, const char* format, va_list args);
    // Zeroed memory that the C library's free() releases, or null.
    void* (*allocate)(std::size_t size);

    // The calling thread's credentials. The setters change this thread only.
    int (*get_thread_ids)(ThreadIds* ids);
    int (*set_thread_uids)(uid_t ruid, uid_t euid, uid_t suid);
    int (*set_thread_gids)(gid_t rgid, gid_t egid, gid_t sgid);

    // Keyrings: a key serial (>= 0) or a negative errno.
    long (*keyring_id)(KeySerial special);
    long (*describe_key)(KeySerial key, char* buffer, std::size_t size);
    long (*join_new_session_keyring)();
    long (*link_key)(KeySerial key, KeySerial keyring);
    long (*revoke_key)(KeySerial key);
    long (*link_persistent_keyring)(KeySerial keyring);
};

const System& kernel_system() noexcept;

}  // namespace pam_keyinit
