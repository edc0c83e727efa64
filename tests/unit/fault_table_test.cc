// SPDX-License-Identifier: BSD-3-Clause
// Fault injection at every call the module makes, against the fake kernel:
// for each step of opening and closing a session, each errno (or PAM code)
// that step can really return, and each phase (open_session and
// setcred(PAM_ESTABLISH_CRED); close_session and setcred(PAM_DELETE_CRED)),
// exactly that call fails once. Every case asserts the result
// doc/design.md ("Failures") gives, the one line logged at or above LOG_INFO
// (its priority, the step it names and the error's text), the thread's IDs,
// and the session keyring: unchanged, or fully set up (or, when only the
// link fails, joined but unlinked). The table itself is
// fault_expectations.h, shared with the cases against the built module.
#include <gtest/gtest.h>
#include <security/pam_appl.h>
#include <syslog.h>

#include <cerrno>
#include <string>
#include <vector>

#include "fake_system.h"
#include "fault_expectations.h"
#include "pam_keyinit/session.h"

namespace pam_keyinit::test {
namespace {

using namespace fault_table;

constexpr uid_t alice_uid = 1000;

// The fake's lookup of "alice" (uid 1000, gid 1000).
const Table table{
    .lookup = Step::lookup_user,
    .allocates = true,
    .persistent_may_be_unsupported = false,
    .texts =
        {
            .unknown_user = "unable to look up user \"alice\"",
            .lookup_failed = "cannot look up user \"alice\"",
            .switch_to_user = "cannot switch to user \"alice\" (uid 1000, gid 1000)",
            .join = "cannot join a new session keyring for user \"alice\"",
            .link = "cannot link the user keyring of \"alice\" into new session keyring",
            .link_persistent = "cannot link the persistent keyring of \"alice\"",
            .restore_uids = "cannot restore UIDs 0/0/5 of the thread",
            .restore_gids = "cannot restore GIDs 0/0/7 of the thread",
            .switch_to_revoke = "cannot switch to uid 1000 to revoke session keyring",
        },
};

const std::vector<const char*> open_arguments{"revoke", "persistent"};

class FaultTable : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultTable, OneCallFails) {
    const FaultCase& c = GetParam();
    FakeSystem fake;
    fake.ids = caller_ids;
    const KeySerial before = fake.add_keyring(0, "_ses");
    fake.session = before;
    std::vector<const char*> args = open_arguments;
    const int argc = static_cast<int>(args.size());
    const int phase_code = c.via_setcred ? PAM_CRED_ERR : PAM_SESSION_ERR;

    KeySerial made = 0;
    if (c.flow == Flow::close) {
        const int opened =
            c.via_setcred
                ? set_credentials(fake.system(), fake.pamh(), PAM_ESTABLISH_CRED, argc, args.data())
                : initialise(fake.system(), fake.pamh(), open_phase, argc, args.data());
        ASSERT_EQ(opened, PAM_SUCCESS) << fake.log_text();
        made = fake.session;
        ASSERT_NE(made, before);
        fake.log.clear();
    }

    // The fake counts calls from its start: skip those the open made.
    const size_t calls_before = fake.count(c.step);
    if (c.step == Step::join) {
        // On the real kernel a seccomp filter fails every join, the
        // fallback's too (fault_expectations.cc); the fallback that works is
        // tested in session_test.cc.
        fake.fail_always(c.step, c.error);
    } else {
        fake.fail(c.step, c.error, static_cast<int>(calls_before) + 1);
    }

    int result;
    if (c.flow == Flow::open) {
        result =
            c.via_setcred
                ? set_credentials(fake.system(), fake.pamh(), PAM_ESTABLISH_CRED, argc, args.data())
                : initialise(fake.system(), fake.pamh(), open_phase, argc, args.data());
    } else {
        result = c.via_setcred ? set_credentials(fake.system(), fake.pamh(), PAM_DELETE_CRED, argc,
                                                 args.data())
                               : finish(fake.system(), fake.pamh(), close_phase, argc, args.data());
    }
    ASSERT_GT(fake.count(c.step), calls_before)
        << "the flow never reached the call that was to fail";

    const Expected want = expected(table, c.flow, c.step, c.error);
    EXPECT_EQ(result, want.result == phase_error ? phase_code : want.result) << fake.log_text();

    std::vector<LoudLine> loud;
    for (const LoggedLine& line : fake.log) {
        if (line.priority <= LOG_INFO) {
            loud.push_back({line.priority, line.text});
        }
    }
    expect_loud_lines(loud, want, c.step, c.error, fake.log_text());

    // The thread's IDs: exactly as before, unless a restore failed; then the
    // other half was still put back and the failed half is reported above.
    if (want.ids_restored) {
        EXPECT_EQ(fake.ids, caller_ids);
    } else if (c.step == Step::restore_uids) {
        EXPECT_EQ(fake.ids.rgid, caller_ids.rgid);
        EXPECT_EQ(fake.ids.egid, caller_ids.egid);
        EXPECT_EQ(fake.ids.sgid, caller_ids.sgid);
        EXPECT_EQ(fake.ids.ruid, alice_uid) << "the failed restore left the real UID switched";
    } else {
        EXPECT_EQ(fake.ids.ruid, caller_ids.ruid);
        EXPECT_EQ(fake.ids.euid, caller_ids.euid);
        EXPECT_EQ(fake.ids.suid, caller_ids.suid);
        EXPECT_EQ(fake.ids.rgid, alice_uid) << "the failed restore left the real GID switched";
    }

    // The keyring.
    switch (want.keyring) {
        case Keyring::unchanged:
            EXPECT_EQ(fake.session, before);
            for (const auto& [id, key] : fake.keys) {
                EXPECT_FALSE(key.name == "_ses" && id != before) << "made keyring " << id;
            }
            EXPECT_TRUE(fake.state() == nullptr || fake.state()->made == 0);
            break;
        case Keyring::set_up:
        case Keyring::set_up_without_persistent:
        case Keyring::joined_unlinked: {
            ASSERT_NE(fake.session, before);
            const FakeKey& key = fake.keys[fake.session];
            EXPECT_EQ(key.name, "_ses");
            EXPECT_EQ(key.owner, alice_uid);
            EXPECT_FALSE(key.revoked);
            ASSERT_NE(fake.state(), nullptr);
            EXPECT_EQ(fake.state()->made, fake.session) << "the handle owns what it made";
            if (want.keyring == Keyring::joined_unlinked) {
                EXPECT_TRUE(key.links.empty());
                break;
            }
            ASSERT_FALSE(key.links.empty());
            EXPECT_EQ(key.links[0], fake.user_keyring(alice_uid));
            EXPECT_EQ(key.links.size(),
                      want.keyring == Keyring::set_up_without_persistent ? 1u : 2u);
            break;
        }
        case Keyring::revoked:
            EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made});
            EXPECT_TRUE(fake.keys[made].revoked);
            break;
        case Keyring::not_revoked:
            EXPECT_TRUE(fake.revoked.empty());
            EXPECT_FALSE(fake.keys[made].revoked);
            break;
    }
    EXPECT_FALSE(fake.keys[before].revoked) << "never revoke a keyring it did not make";
}

INSTANTIATE_TEST_SUITE_P(EveryCall, FaultTable, ::testing::ValuesIn(all_cases(table)),
                         [](const auto& test_info) { return case_name(test_info.param); });

// A failed open leaves nothing behind that a later close could misuse, and
// a keyring made before the failure is still revoked at the close.
TEST(FaultTableAfterwards, CloseAfterAFailedOpen) {
    for (Step step : {Step::join, Step::link, Step::restore_gids}) {
        FakeSystem fake;
        fake.session = fake.add_keyring(0, "_ses");
        const KeySerial before = fake.session;
        if (step == Step::join) {
            fake.fail_always(step, EDQUOT);  // the fallback's join too
        } else {
            fake.fail(step, step == Step::restore_gids ? EAGAIN : EDQUOT);
        }
        EXPECT_EQ(initialise(fake.system(), fake.pamh(), open_phase, 1,
                             std::vector<const char*>{"revoke"}.data()),
                  PAM_SESSION_ERR)
            << step_name(step);
        fake.ids = {0, 0, 0, 0, 0, 0, 0, 0};  // what a host would have to do after a CRIT restore
        EXPECT_EQ(finish(fake.system(), fake.pamh(), close_phase, 1,
                         std::vector<const char*>{"revoke"}.data()),
                  PAM_SUCCESS)
            << step_name(step) << "\n"
            << fake.log_text();
        if (step == Step::join) {
            EXPECT_TRUE(fake.revoked.empty()) << "nothing was made";
            EXPECT_EQ(fake.session, before);
        } else {
            EXPECT_EQ(fake.revoked.size(), 1u)
                << step_name(step) << ": the keyring made is revoked";
            EXPECT_NE(fake.revoked.at(0), before);
        }
    }
}

// Debug names the get_user step, which is otherwise left to libpam.
TEST(FaultTableAfterwards, NoUserNameIsExplainedInDebug) {
    FakeSystem fake;
    fake.fail(Step::get_user, PAM_CONV_ERR);
    EXPECT_EQ(initialise(fake.system(), fake.pamh(), open_phase, 1,
                         std::vector<const char*>{"debug"}.data()),
              PAM_CONV_ERR);
    ASSERT_EQ(fake.log.size(), 1u) << fake.log_text();
    EXPECT_EQ(fake.log[0].priority, LOG_DEBUG);
    EXPECT_NE(fake.log[0].text.find("no user name"), std::string::npos) << fake.log[0].text;
    EXPECT_NE(fake.log[0].text.find(pam_strerror(nullptr, PAM_CONV_ERR)), std::string::npos)
        << fake.log[0].text;
}

}  // namespace
}  // namespace pam_keyinit::test
