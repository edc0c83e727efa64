// SPDX-License-Identifier: BSD-3-Clause
// Switching the calling thread's real UID and GID to the target user's, so
// that @u and @us resolve to that user's keyrings and a new keyring is owned
// and charged to that user. The effective and saved IDs are left alone, so a
// root caller keeps its privileges and capabilities throughout.
#pragma once

#include "pam_keyinit/log.h"
#include "pam_keyinit/system.h"

namespace pam_keyinit {

class ActingAsUser {
public:
    ActingAsUser(const System& system, Log& log) noexcept : system_(system), log_(log) {}
    ~ActingAsUser() { restore(); }

    ActingAsUser(const ActingAsUser&) = delete;
    ActingAsUser& operator=(const ActingAsUser&) = delete;

    // Switches this thread's real IDs; 0 or a negative errno. On failure the
    // thread is as it was. IDs that already match are not touched, so an
    // unprivileged caller may act for itself.
    int enter(UserIds user) noexcept;

    // Switches this thread's real UID once more, while entered (the fallback
    // keyring of doc/design.md, "Decision rules", is joined as root); 0 or a
    // negative errno, the thread unchanged on failure. restore() puts back
    // what enter() found.
    int switch_real_uid(uid_t uid) noexcept;

    // Puts back the real, effective, saved and filesystem IDs exactly as
    // they were.
    // Idempotent. A failure is logged at LOG_CRIT and returns false: the
    // caller must then fail the PAM call.
    bool restore() noexcept;

private:
    const System& system_;
    Log& log_;
    ThreadIds before_{};
    bool uids_changed_ = false;
    bool gids_changed_ = false;
};

}  // namespace pam_keyinit
