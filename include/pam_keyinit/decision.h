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
// already switched to the target user's.
struct Observation {
    // The session keyring (@s). Empty when it is revoked or expired: a thread
    // left with a dead session keyring (an earlier session on the same thread
    // was revoked) cannot even look it up.
    std::optional<KeySerial> session;
    // The target user's user-session keyring (@us), when it was looked up.
    std::optional<KeySerial> user_session;
    // The owner of the session keyring; empty when it could not be read.
    std::optional<uid_t> session_owner;
};

enum class Verdict { replace, keep };

enum class Reason {
    forced,             // rule 1: force
    dead_session,       // rule 2: the session keyring is revoked or expired
    user_session,       // rule 3: no session keyring of its own
    foreign_owner,      // rule 4: owned by another UID
    unknown_owner,      // rule 4: owner unreadable, so taken as foreign
    inherited_foreign,  // rule 4 waived by inherit
    root_target,        // rule 4 does not apply to root
    own_keyring,        // rule 5
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
