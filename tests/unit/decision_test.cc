// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <cerrno>

#include "pam_keyinit/decision.h"

namespace pam_keyinit {
namespace {

constexpr uid_t alice = 1000;
constexpr uid_t root = 0;
constexpr KeySerial session = 100;
constexpr KeySerial alice_user_session = 200;

struct DecisionCase {
    const char* name;
    Observation seen;
    uid_t target;
    Policy policy;
    Decision expected;
};

std::ostream& operator<<(std::ostream& out, const DecisionCase& c) {
    return out << c.name;
}

class DecisionTable : public ::testing::TestWithParam<DecisionCase> {};

TEST_P(DecisionTable, FollowsSpecRules) {
    const DecisionCase& c = GetParam();
    const Decision got = decide(c.seen, c.target, c.policy);
    EXPECT_EQ(got.verdict, c.expected.verdict) << explain(got.reason);
    EXPECT_EQ(got.reason, c.expected.reason) << explain(got.reason);
}

// What the module saw: the session keyring, the user-session keyring, the
// owner, and the errno of a failed session keyring lookup.
Observation seen(std::optional<KeySerial> ses, std::optional<KeySerial> user_ses,
                 std::optional<uid_t> owner, int error = 0) {
    return Observation{ses, user_ses, owner, error};
}

const Observation user_session_seen = seen(session, session, alice);
const Observation own_seen = seen(session, alice_user_session, alice);
const Observation root_owned_seen = seen(session, alice_user_session, root);
const Observation other_user_seen = seen(session, alice_user_session, 1001);
const Observation alice_owned_seen = seen(session, alice_user_session, alice);
const Observation unreadable_seen = seen(session, alice_user_session, std::nullopt);
const Observation dead_seen = seen(std::nullopt, std::nullopt, std::nullopt, EKEYREVOKED);
const Observation expired_seen = seen(std::nullopt, std::nullopt, std::nullopt, EKEYEXPIRED);
const Observation denied_seen = seen(std::nullopt, std::nullopt, std::nullopt, EACCES);
const Observation invalidated_seen = seen(std::nullopt, std::nullopt, std::nullopt, ENOKEY);
const Observation no_user_session_seen = seen(session, std::nullopt, alice);

const Decision replace_forced{Verdict::replace, Reason::forced};

// A table: one entry a line.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Rules, DecisionTable,
    ::testing::Values(
        // Rule 1: force replaces whatever is there.
        DecisionCase{"force_own", own_seen, alice, {.force = true}, replace_forced},
        DecisionCase{"force_foreign", root_owned_seen, alice, {.force = true}, replace_forced},
        DecisionCase{"force_beats_inherit", root_owned_seen, alice, {.force = true, .inherit = true},
                     replace_forced},
        DecisionCase{"force_root_target", root_owned_seen, root, {.force = true}, replace_forced},
        DecisionCase{"force_dead", dead_seen, alice, {.force = true}, replace_forced},
        // Rule 2: a revoked or expired session keyring cannot be kept...
        DecisionCase{"dead", dead_seen, alice, {}, {Verdict::replace, Reason::dead_session}},
        DecisionCase{"expired", expired_seen, alice, {}, {Verdict::replace, Reason::dead_session}},
        DecisionCase{"dead_inherit", dead_seen, alice, {.inherit = true},
                     {Verdict::replace, Reason::dead_session}},
        DecisionCase{"dead_root", dead_seen, root, {}, {Verdict::replace, Reason::dead_session}},
        // ... nor one that cannot be looked up (the caller may have made it
        // so), nor one that cannot be compared with the user-session keyring.
        DecisionCase{"denied", denied_seen, alice, {},
                     {Verdict::replace, Reason::unreadable_session}},
        DecisionCase{"invalidated", invalidated_seen, alice, {},
                     {Verdict::replace, Reason::unreadable_session}},
        DecisionCase{"denied_inherit", denied_seen, alice, {.inherit = true},
                     {Verdict::replace, Reason::unreadable_session}},
        DecisionCase{"denied_root", denied_seen, root, {},
                     {Verdict::replace, Reason::unreadable_session}},
        DecisionCase{"no_user_session_seen", no_user_session_seen, alice, {},
                     {Verdict::replace, Reason::unreadable_user_session}},
        DecisionCase{"no_user_session_seen_inherit", no_user_session_seen, alice,
                     {.inherit = true}, {Verdict::replace, Reason::unreadable_user_session}},
        // Rule 3: the user-session keyring means no keyring of its own.
        DecisionCase{"user_session", user_session_seen, alice, {},
                     {Verdict::replace, Reason::user_session}},
        DecisionCase{"user_session_inherit", user_session_seen, alice, {.inherit = true},
                     {Verdict::replace, Reason::user_session}},
        DecisionCase{"user_session_root", seen(session, session, root), root, {},
                     {Verdict::replace, Reason::user_session}},
        DecisionCase{"user_session_owner_unreadable", seen(session, session, std::nullopt), alice,
                     {}, {Verdict::replace, Reason::user_session}},
        // Rule 4: another user's keyring is replaced, for root too...
        DecisionCase{"root_owned", root_owned_seen, alice, {},
                     {Verdict::replace, Reason::foreign_owner}},
        DecisionCase{"other_user", other_user_seen, alice, {},
                     {Verdict::replace, Reason::foreign_owner}},
        DecisionCase{"unreadable_owner", unreadable_seen, alice, {},
                     {Verdict::replace, Reason::unknown_owner}},
        DecisionCase{"root_target_foreign", other_user_seen, root, {},
                     {Verdict::replace, Reason::foreign_owner}},
        DecisionCase{"root_target_users_keyring", alice_owned_seen, root, {},
                     {Verdict::replace, Reason::foreign_owner}},
        DecisionCase{"root_target_unreadable", unreadable_seen, root, {},
                     {Verdict::replace, Reason::unknown_owner}},
        // ... unless inherit keeps it.
        DecisionCase{"root_owned_inherit", root_owned_seen, alice, {.inherit = true},
                     {Verdict::keep, Reason::inherited_foreign}},
        DecisionCase{"unreadable_inherit", unreadable_seen, alice, {.inherit = true},
                     {Verdict::keep, Reason::inherited_foreign}},
        DecisionCase{"root_target_inherit", alice_owned_seen, root, {.inherit = true},
                     {Verdict::keep, Reason::inherited_foreign}},
        // Rule 5: the user's own keyring stays.
        DecisionCase{"own", own_seen, alice, {}, {Verdict::keep, Reason::own_keyring}},
        DecisionCase{"own_inherit", own_seen, alice, {.inherit = true},
                     {Verdict::keep, Reason::own_keyring}},
        DecisionCase{"root_own", seen(session, alice_user_session, root), root, {},
                     {Verdict::keep, Reason::own_keyring}}),
    [](const auto& test_info) { return std::string(test_info.param.name); });
// clang-format on

TEST(Decision, EveryReasonIsExplained) {
    for (Reason reason :
         {Reason::forced, Reason::dead_session, Reason::unreadable_session,
          Reason::unreadable_user_session, Reason::user_session, Reason::foreign_owner,
          Reason::unknown_owner, Reason::inherited_foreign, Reason::own_keyring}) {
        EXPECT_STRNE(explain(reason), "no reason");
    }
}

}  // namespace
}  // namespace pam_keyinit
