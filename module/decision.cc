// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/decision.h"

#include <cerrno>

namespace pam_keyinit {

Decision decide(const Observation& seen, uid_t target, Policy policy) noexcept {
    if (policy.force) {
        return {Verdict::replace, Reason::forced};
    }
    if (!seen.session) {
        const bool dead = seen.session_error == EKEYREVOKED || seen.session_error == EKEYEXPIRED;
        return {Verdict::replace, dead ? Reason::dead_session : Reason::unreadable_session};
    }
    if (!seen.user_session) {
        return {Verdict::replace, Reason::unreadable_user_session};
    }
    if (*seen.session == *seen.user_session) {
        return {Verdict::replace, Reason::user_session};
    }
    // Root is no exception: a root session that kept another user's keyring
    // would store its secrets where that user can read them.
    if (!seen.session_owner || *seen.session_owner != target) {
        if (policy.inherit) {
            return {Verdict::keep, Reason::inherited_foreign};
        }
        return {Verdict::replace,
                seen.session_owner ? Reason::foreign_owner : Reason::unknown_owner};
    }
    return {Verdict::keep, Reason::own_keyring};
}

const char* explain(Reason reason) noexcept {
    switch (reason) {
        case Reason::forced: return "the force option is set";
        case Reason::dead_session: return "the session keyring is revoked or expired";
        case Reason::unreadable_session:
            return "the session keyring cannot be looked up, so it cannot be shown to be "
                   "the user's";
        case Reason::unreadable_user_session:
            return "the user-session keyring cannot be looked up, so the session keyring "
                   "cannot be shown to be the user's";
        case Reason::user_session:
            return "the session keyring is the user's user-session keyring, so the "
                   "process has none of its own";
        case Reason::foreign_owner: return "the session keyring belongs to another user";
        case Reason::unknown_owner:
            return "the owner of the session keyring cannot be read, so it is "
                   "taken as another user's";
        case Reason::inherited_foreign:
            return "the session keyring belongs to another user, and the inherit "
                   "option keeps it";
        case Reason::own_keyring: return "the session keyring already belongs to the user";
    }
    return "no reason";
}

}  // namespace pam_keyinit
