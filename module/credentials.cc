// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/credentials.h"

namespace pam_keyinit {

int ActingAsUser::enter(UserIds user) noexcept {
    if (int error = system_.get_thread_ids(&before_); error < 0) {
        return error;
    }
    constexpr gid_t unchanged_gid = static_cast<gid_t>(-1);
    constexpr uid_t unchanged_uid = static_cast<uid_t>(-1);
    // GID first: once the real UID is the user's, an unprivileged caller
    // could no longer change it.
    if (user.gid != before_.rgid) {
        if (int error = system_.set_thread_gids(user.gid, unchanged_gid, unchanged_gid);
            error < 0) {
            return error;
        }
        gids_changed_ = true;
    }
    if (user.uid != before_.ruid) {
        if (int error = system_.set_thread_uids(user.uid, unchanged_uid, unchanged_uid);
            error < 0) {
            restore();
            return error;
        }
        uids_changed_ = true;
    }
    return 0;
}

bool ActingAsUser::restore() noexcept {
    bool restored = true;
    // setresuid() and setresgid() set the filesystem IDs to the effective
    // ones; a host that had chosen others gets them back too.
    if (uids_changed_) {
        if (int error = system_.set_thread_uids(before_.ruid, before_.euid, before_.suid);
            error < 0) {
            log_.line(LOG_CRIT, "cannot restore UIDs %u/%u/%u of the thread: %s", before_.ruid,
                      before_.euid, before_.suid, errno_text(-error));
            restored = false;
        } else if (before_.fsuid != before_.euid) {
            if (int fs_error = system_.set_thread_fsuid(before_.fsuid); fs_error < 0) {
                log_.line(LOG_CRIT, "cannot restore the filesystem UID %u of the thread: %s",
                          before_.fsuid, errno_text(-fs_error));
                restored = false;
            }
        }
        uids_changed_ = false;
    }
    if (gids_changed_) {
        if (int error = system_.set_thread_gids(before_.rgid, before_.egid, before_.sgid);
            error < 0) {
            log_.line(LOG_CRIT, "cannot restore GIDs %u/%u/%u of the thread: %s", before_.rgid,
                      before_.egid, before_.sgid, errno_text(-error));
            restored = false;
        } else if (before_.fsgid != before_.egid) {
            if (int fs_error = system_.set_thread_fsgid(before_.fsgid); fs_error < 0) {
                log_.line(LOG_CRIT, "cannot restore the filesystem GID %u of the thread: %s",
                          before_.fsgid, errno_text(-fs_error));
                restored = false;
            }
        }
        gids_changed_ = false;
    }
    return restored;
}

int ActingAsUser::switch_real_uid(uid_t uid) noexcept {
    constexpr uid_t unchanged_uid = static_cast<uid_t>(-1);
    if (int error = system_.set_thread_uids(uid, unchanged_uid, unchanged_uid); error < 0) {
        return error;
    }
    uids_changed_ = true;
    return 0;
}

}  // namespace pam_keyinit
