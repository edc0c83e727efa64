// SPDX-License-Identifier: BSD-3-Clause
// The decision rules of doc/design.md ("Decision rules"): a pure function
// of what was observed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace pam_keyinit {

using KeySerial = std::int32_t;

// What the module saw of the calling thread's keyrings, with its real IDs
// already switched to the target user's. Nothing is seen with force.
struct Observation {
    // The session keyring (@s), when it could be looked up.
    std::optional<KeySerial> session;
    // The target user's user-session keyring (@us), when it was looked up.
    std::optional<KeySerial> user_session;
    // The owner of the session keyring; empty when it could not be read.
    std::optional<uid_t> session_owner;
    // Why the session keyring could not be looked up (a positive errno):
    // EKEYREVOKED or EKEYEXPIRED for a dead keyring (an earlier session on
    // the same thread was revoked), or whatever else the lookup failed with
    // (the caller may have taken its permissions away, or invalidated it).
    // 0 when it was found, or not looked for.
    int session_error;
};

enum class Verdict { replace, keep };

enum class Reason {
    forced,                   // rule 1: force
    dead_session,             // rule 2: the session keyring is revoked or expired
    unreadable_session,       // rule 2: the session keyring cannot be looked up
    unreadable_user_session,  // rule 2: the user-session keyring cannot be looked up
    user_session,             // rule 3: no session keyring of its own
    foreign_owner,            // rule 4: owned by another UID
    unknown_owner,            // rule 4: owner unreadable, so taken as foreign
    inherited_foreign,        // rule 4 waived by inherit
    own_keyring,              // rule 5
};

struct Decision {
    Verdict verdict;
    Reason reason;

    friend bool operator==(const Decision&, const Decision&) = default;
};

struct Policy {
    bool force = false;
    bool inherit = false;
};

Decision decide(const Observation& seen, uid_t target, Policy policy) noexcept;

// A short phrase for log lines, e.g. "the session keyring is owned by
// another user".
const char* explain(Reason reason) noexcept;

}  // namespace pam_keyinit
