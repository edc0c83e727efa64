// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

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

const Observation user_session_seen{session, session, alice};
const Observation own_seen{session, alice_user_session, alice};
const Observation root_owned_seen{session, alice_user_session, root};
const Observation other_user_seen{session, alice_user_session, 1001};
const Observation unreadable_seen{session, alice_user_session, std::nullopt};
const Observation dead_seen{std::nullopt, std::nullopt, std::nullopt};

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
        // Rule 2: a revoked or expired session keyring cannot be kept.
        DecisionCase{"dead", dead_seen, alice, {}, {Verdict::replace, Reason::dead_session}},
        DecisionCase{"dead_inherit", dead_seen, alice, {.inherit = true},
                     {Verdict::replace, Reason::dead_session}},
        DecisionCase{"dead_root", dead_seen, root, {}, {Verdict::replace, Reason::dead_session}},
        // Rule 3: the user-session keyring means no keyring of its own.
        DecisionCase{"user_session", user_session_seen, alice, {},
                     {Verdict::replace, Reason::user_session}},
        DecisionCase{"user_session_inherit", user_session_seen, alice, {.inherit = true},
                     {Verdict::replace, Reason::user_session}},
        DecisionCase{"user_session_root", {session, session, root}, root, {},
                     {Verdict::replace, Reason::user_session}},
        DecisionCase{"user_session_owner_unreadable", {session, session, std::nullopt}, alice, {},
                     {Verdict::replace, Reason::user_session}},
        // Rule 4: another user's keyring is replaced for a non-root target...
        DecisionCase{"root_owned", root_owned_seen, alice, {},
                     {Verdict::replace, Reason::foreign_owner}},
        DecisionCase{"other_user", other_user_seen, alice, {},
                     {Verdict::replace, Reason::foreign_owner}},
        DecisionCase{"unreadable_owner", unreadable_seen, alice, {},
                     {Verdict::replace, Reason::unknown_owner}},
        // ... unless inherit keeps it, or the target is root.
        DecisionCase{"root_owned_inherit", root_owned_seen, alice, {.inherit = true},
                     {Verdict::keep, Reason::inherited_foreign}},
        DecisionCase{"unreadable_inherit", unreadable_seen, alice, {.inherit = true},
                     {Verdict::keep, Reason::inherited_foreign}},
        DecisionCase{"root_target_foreign", other_user_seen, root, {},
                     {Verdict::keep, Reason::root_target}},
        DecisionCase{"root_target_unreadable", unreadable_seen, root, {},
                     {Verdict::keep, Reason::root_target}},
        // Rule 5: the user's own keyring stays.
        DecisionCase{"own", own_seen, alice, {}, {Verdict::keep, Reason::own_keyring}},
        DecisionCase{"own_inherit", own_seen, alice, {.inherit = true},
                     {Verdict::keep, Reason::own_keyring}},
        DecisionCase{"root_own", {session, alice_user_session, root}, root, {},
                     {Verdict::keep, Reason::own_keyring}},
        // Rule 3 without a user-session ID to compare falls through to rules 4 and 5.
        DecisionCase{"no_user_session_seen", {session, std::nullopt, alice}, alice, {},
                     {Verdict::keep, Reason::own_keyring}}),
    [](const auto& test_info) { return std::string(test_info.param.name); });
// clang-format on

TEST(Decision, EveryReasonIsExplained) {
    for (Reason reason : {Reason::forced, Reason::dead_session, Reason::user_session,
                          Reason::foreign_owner, Reason::unknown_owner, Reason::inherited_foreign,
                          Reason::root_target, Reason::own_keyring}) {
        EXPECT_STRNE(explain(reason), "no reason");
    }
}

}  // namespace
}  // namespace pam_keyinit
