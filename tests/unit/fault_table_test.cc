// Fault injection at every call the module makes, against the fake kernel:
// for each step of opening and closing a session, each errno (or PAM code)
// that step can really return, and each phase (open_session and
// setcred(PAM_ESTABLISH_CRED); close_session and setcred(PAM_DELETE_CRED)),
// exactly that call fails once. Every case asserts the result SPEC.md 7
// gives, the one line logged at or above LOG_INFO (its priority, the step it
// names and the error's text), the thread's IDs, and the session keyring:
// unchanged, or fully set up (or, when only the link fails, joined but
// unlinked, as SPEC.md 7 says). The table itself is fault_expectations.h,
// shared with the cases against the built module.
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

struct StepCall {
    Call call;
    int nth;  // counted from the start of the flow
};

StepCall call_of(Step step) {
    switch (step) {
        case Step::get_data: return {Call::get_data, 1};
        case Step::get_user: return {Call::get_user, 1};
        case Step::lookup_user: return {Call::lookup_user, 1};
        case Step::allocate: return {Call::allocate, 1};
        case Step::set_data: return {Call::set_data, 1};
        case Step::read_ids: return {Call::get_thread_ids, 1};
        case Step::switch_gids: return {Call::set_thread_gids, 1};
        case Step::switch_uids: return {Call::set_thread_uids, 1};
        case Step::session_lookup: return {Call::keyring_id, 1};
        case Step::user_session_lookup: return {Call::keyring_id, 2};
        case Step::describe: return {Call::describe_key, 1};
        case Step::join: return {Call::join, 1};
        case Step::link: return {Call::link, 1};
        case Step::link_persistent: return {Call::link_persistent, 1};
        case Step::restore_uids: return {Call::set_thread_uids, 2};
        case Step::restore_gids: return {Call::set_thread_gids, 2};
        case Step::revoke: return {Call::revoke, 1};
        case Step::getpwnam: break;  // libpam's lookup: not a step of this table
    }
    return {Call::get_data, 1};
}

const char* step_name(Step step) {
    switch (step) {
        case Step::get_data: return "get_data";
        case Step::get_user: return "get_user";
        case Step::lookup_user: return "lookup_user";
        case Step::allocate: return "allocate";
        case Step::set_data: return "set_data";
        case Step::read_ids: return "read_ids";
        case Step::switch_gids: return "switch_gids";
        case Step::switch_uids: return "switch_uids";
        case Step::session_lookup: return "session_lookup";
        case Step::user_session_lookup: return "user_session_lookup";
        case Step::describe: return "describe";
        case Step::join: return "join";
        case Step::link: return "link";
        case Step::link_persistent: return "link_persistent";
        case Step::restore_uids: return "restore_uids";
        case Step::restore_gids: return "restore_gids";
        case Step::revoke: return "revoke";
        case Step::getpwnam: break;
    }
    return "?";
}

// The module's own lookup of "alice" (uid 1000, gid 1000).
const Table table{
    .lookup = Step::lookup_user,
    .allocates = true,
    .persistent_may_be_unsupported = false,
    .step_name = step_name,
    .texts = {
        .unknown_user = "unable to look up user \"alice\"",
        .lookup_out_of_memory = "out of memory looking up user \"alice\"",
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
        const int opened = c.via_setcred
                               ? set_credentials(fake.system(), fake.pamh(), PAM_ESTABLISH_CRED,
                                                 argc, args.data())
                               : initialise(fake.system(), fake.pamh(), open_phase, argc,
                                            args.data());
        ASSERT_EQ(opened, PAM_SUCCESS) << fake.log_text();
        made = fake.session;
        ASSERT_NE(made, before);
        fake.log.clear();
    }

    const StepCall step = call_of(c.step);
    // The fake counts calls from its start: skip those the open made.
    fake.fail(step.call, c.error, static_cast<int>(fake.count(step.call)) + step.nth);
    const size_t calls_before = fake.count(step.call);

    int result;
    if (c.flow == Flow::open) {
        result = c.via_setcred ? set_credentials(fake.system(), fake.pamh(), PAM_ESTABLISH_CRED,
                                                 argc, args.data())
                               : initialise(fake.system(), fake.pamh(), open_phase, argc,
                                            args.data());
    } else {
        result = c.via_setcred ? set_credentials(fake.system(), fake.pamh(), PAM_DELETE_CRED, argc,
                                                 args.data())
                               : finish(fake.system(), fake.pamh(), close_phase, argc, args.data());
    }
    ASSERT_GT(fake.count(step.call), calls_before + static_cast<size_t>(step.nth) - 1)
        << "the flow never reached the call that was to fail";

    const Expected want = expected(table, c.flow, c.step, c.error);
    EXPECT_EQ(result, want.result == phase_error ? phase_code : want.result) << fake.log_text();

    // The log: one line at or above LOG_INFO, or none.
    std::vector<LoggedLine> loud;
    for (const LoggedLine& line : fake.log) {
        if (line.priority <= LOG_INFO) {
            loud.push_back(line);
        }
    }
    if (!want.priority) {
        EXPECT_TRUE(loud.empty()) << fake.log_text();
    } else {
        ASSERT_EQ(loud.size(), 1u) << fake.log_text();
        EXPECT_EQ(loud[0].priority, *want.priority) << loud[0].text;
        EXPECT_NE(loud[0].text.find(want.step_text), std::string::npos)
            << "want \"" << want.step_text << "\" in: " << loud[0].text;
        if (want.names_error) {
            EXPECT_NE(loud[0].text.find(error_text(c.step, c.error)), std::string::npos)
                << "want \"" << error_text(c.step, c.error) << "\" in: " << loud[0].text;
        }
        EXPECT_EQ(loud[0].text.find('\n'), std::string::npos);
    }

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
            EXPECT_EQ(key.links.size(), want.keyring == Keyring::set_up_without_persistent ? 1u : 2u);
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
        const StepCall call = call_of(step);
        fake.fail(call.call, step == Step::restore_gids ? EAGAIN : EDQUOT, call.nth);
        EXPECT_EQ(initialise(fake.system(), fake.pamh(), open_phase, 1,
                             std::vector<const char*>{"revoke"}.data()),
                  PAM_SESSION_ERR)
            << step_name(step);
        fake.ids = {0, 0, 0, 0, 0, 0};  // what a host would have to do after a CRIT restore
        EXPECT_EQ(finish(fake.system(), fake.pamh(), close_phase, 1,
                         std::vector<const char*>{"revoke"}.data()),
                  PAM_SUCCESS)
            << step_name(step) << "\n" << fake.log_text();
        if (step == Step::join) {
            EXPECT_TRUE(fake.revoked.empty()) << "nothing was made";
            EXPECT_EQ(fake.session, before);
        } else {
            EXPECT_EQ(fake.revoked.size(), 1u) << step_name(step) << ": the keyring made is revoked";
            EXPECT_NE(fake.revoked.at(0), before);
        }
    }
}

// Debug names the get_user step, which is otherwise left to libpam.
TEST(FaultTableAfterwards, NoUserNameIsExplainedInDebug) {
    FakeSystem fake;
    fake.fail(Call::get_user, PAM_CONV_ERR);
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
