// Fault injection at every call the module makes, against the fake kernel:
// for each step of opening and closing a session, each errno (or PAM code)
// that step can really return, and each phase (open_session and
// setcred(PAM_ESTABLISH_CRED); close_session and setcred(PAM_DELETE_CRED)),
// exactly that call fails once. Every case asserts the result SPEC.md 7
// gives, the one line logged at or above LOG_INFO (its priority, the step it
// names and the error's text), the thread's IDs, and the session keyring:
// unchanged, or fully set up (or, when only the link fails, joined but
// unlinked, as SPEC.md 7 says).
#include <gtest/gtest.h>
#include <security/pam_appl.h>
#include <syslog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fake_system.h"
#include "pam_keyinit/session.h"

namespace pam_keyinit::test {
namespace {

// Odd saved IDs, so that a restore that only put back the real IDs shows.
constexpr ThreadIds caller_ids{0, 0, 5, 0, 0, 7};
constexpr uid_t alice_uid = 1000;

enum class Flow { open, close };

// Each call of the two flows, in the order the module makes them: the
// caller starts inside a root-owned session keyring (a login from a systemd
// service), so opening reads the session keyring, the user-session keyring
// and the owner, then joins and links.
enum class Step {
    get_data, get_user, lookup_user, allocate, set_data,
    read_ids, switch_gids, switch_uids,
    session_lookup, user_session_lookup, describe, join, link, link_persistent,
    restore_uids, restore_gids,
    revoke,
};

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
    }
    return "?";
}

// Steps whose failure value is a PAM code rather than an errno.
bool returns_pam_code(Step step) {
    return step == Step::get_data || step == Step::get_user || step == Step::set_data;
}

// What each call can really return when it fails: keyctl(2), setresuid(2),
// getresuid(2), getpwnam_r(3), calloc(3), pam_get_user(3), pam_get_data(3),
// pam_set_data(3).
std::vector<int> failures_of(Step step) {
    const std::vector<int> keyctl_errors{ENOMEM, EDQUOT, EACCES, EPERM, EAGAIN, EINTR, EINVAL,
                                         EFAULT, EKEYREVOKED, EKEYEXPIRED, ENOKEY, ENOSYS};
    const std::vector<int> setres_errors{EPERM, EAGAIN, EINVAL};
    switch (step) {
        case Step::get_data: return {PAM_SYSTEM_ERR};
        case Step::get_user:
            return {PAM_SYSTEM_ERR, PAM_BUF_ERR, PAM_CONV_ERR, PAM_ABORT, PAM_INCOMPLETE};
        case Step::lookup_user: return {ENOENT, ENOMEM, EIO, EMFILE, ENFILE, EAGAIN, EINTR, ERANGE};
        case Step::allocate: return {ENOMEM};
        case Step::set_data: return {PAM_BUF_ERR, PAM_SYSTEM_ERR};
        case Step::read_ids: return {EFAULT};
        case Step::switch_gids:
        case Step::switch_uids:
        case Step::restore_uids:
        case Step::restore_gids: return setres_errors;
        default: return keyctl_errors;
    }
}

// The keyring's state after the call.
enum class Keyring {
    unchanged,         // the thread keeps the keyring it had; nothing made
    set_up,            // a new "_ses" of the user's, linking the user keyring
    joined_unlinked,   // the new keyring stays, without the link
    revoked,           // close: what the handle made is revoked
    not_revoked,       // close: the handle's keyring stays as it was
};

struct Expected {
    int result;                 // a PAM code; phase_error stands for the phase's
    std::optional<int> priority;  // of the one line at or above LOG_INFO, if any
    std::string step_text;       // what that line says about the step
    bool names_error;            // the line carries the error's text
    Keyring keyring;
    bool ids_restored = true;    // false: a restore failed, checked separately
};

constexpr int phase_error = -1;

bool is_unavailable(int error) {
    return error == ENOSYS || error == EPERM;
}

// SPEC.md 7: a keyring call that runs out of memory is PAM_BUF_ERR at
// LOG_CRIT, whatever step it was; the line still names the step.
Expected out_of_memory_rule(Step step, int error, Expected expected) {
    const bool keyring_call = step == Step::session_lookup || step == Step::user_session_lookup ||
                              step == Step::join || step == Step::link || step == Step::revoke;
    if (keyring_call && error == ENOMEM && expected.result == phase_error) {
        expected.result = PAM_BUF_ERR;
        expected.priority = LOG_CRIT;
    }
    return expected;
}

Expected expected_open(Step step, int error) {
    switch (step) {
        case Step::get_data:
            return {phase_error, LOG_ERR, "cannot read this module's state", true, Keyring::unchanged};
        case Step::get_user:
            // SPEC.md 7: the code of pam_get_user, logged as Linux-PAM does
            // (libpam says why; the module only in debug).
            return {error, std::nullopt, "", false, Keyring::unchanged};
        case Step::lookup_user:
            if (error == ENOENT) {
                return {PAM_USER_UNKNOWN, LOG_NOTICE, "unable to look up user \"alice\"", false,
                        Keyring::unchanged};
            }
            if (error == ENOMEM) {
                return {PAM_BUF_ERR, LOG_CRIT, "out of memory looking up user \"alice\"", false,
                        Keyring::unchanged};
            }
            return {phase_error, LOG_ERR, "cannot look up user \"alice\"", true, Keyring::unchanged};
        case Step::allocate:
            return {PAM_BUF_ERR, LOG_CRIT, "out of memory for the session state", false,
                    Keyring::unchanged};
        case Step::set_data:
            if (error == PAM_BUF_ERR) {
                return {PAM_BUF_ERR, LOG_CRIT, "out of memory keeping the session state", false,
                        Keyring::unchanged};
            }
            return {phase_error, LOG_ERR, "cannot keep the session state", true, Keyring::unchanged};
        case Step::read_ids:
        case Step::switch_gids:
        case Step::switch_uids:
            return {phase_error, LOG_ERR, "cannot switch to user \"alice\" (uid 1000, gid 1000)", true,
                    Keyring::unchanged};
        case Step::session_lookup:
            if (is_unavailable(error)) {
                return {PAM_SUCCESS, LOG_INFO, "kernel keyrings are unavailable", true,
                        Keyring::unchanged};
            }
            if (error == EKEYREVOKED || error == EKEYEXPIRED) {
                // A dead session keyring is replaced, quietly.
                return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
            }
            return {phase_error, LOG_ERR, "cannot look up the session keyring", true,
                    Keyring::unchanged};
        case Step::user_session_lookup:
            return {phase_error, LOG_ERR, "cannot look up the user-session keyring", true,
                    Keyring::unchanged};
        case Step::describe:
            // An owner that cannot be read is taken as foreign: replaced.
            return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
        case Step::join:
            return {phase_error, LOG_ERR, "cannot join a new session keyring for user \"alice\"", true,
                    Keyring::unchanged};
        case Step::link:
            return {phase_error, LOG_ERR, "cannot link the user keyring of \"alice\" into new session "
                    "keyring", true, Keyring::joined_unlinked};
        case Step::link_persistent:
            return {PAM_SUCCESS, LOG_WARNING, "cannot link the persistent keyring of \"alice\"", true,
                    Keyring::set_up};
        case Step::restore_uids:
            return {phase_error, LOG_CRIT, "cannot restore UIDs 0/0/5 of the thread", true,
                    Keyring::set_up, false};
        case Step::restore_gids:
            return {phase_error, LOG_CRIT, "cannot restore GIDs 0/0/7 of the thread", true,
                    Keyring::set_up, false};
        case Step::revoke:
            break;
    }
    ADD_FAILURE() << "no open expectation for " << step_name(step);
    return {};
}

Expected expected_close(Step step, int error) {
    switch (step) {
        case Step::get_data:
            return {phase_error, LOG_ERR, "cannot read this module's state", true,
                    Keyring::not_revoked};
        case Step::read_ids:
        case Step::switch_gids:
        case Step::switch_uids:
            return {phase_error, LOG_ERR, "cannot switch to uid 1000 to revoke session keyring", true,
                    Keyring::not_revoked};
        case Step::revoke:
            if (error == EKEYREVOKED || error == ENOKEY) {
                // Already revoked or gone counts as revoked (SPEC.md 5).
                return {PAM_SUCCESS, std::nullopt, "", false, Keyring::not_revoked};
            }
            return {phase_error, LOG_ERR, "cannot revoke session keyring", true,
                    Keyring::not_revoked};
        case Step::restore_uids:
            return {phase_error, LOG_CRIT, "cannot restore UIDs 0/0/5 of the thread", true,
                    Keyring::revoked, false};
        case Step::restore_gids:
            return {phase_error, LOG_CRIT, "cannot restore GIDs 0/0/7 of the thread", true,
                    Keyring::revoked, false};
        default:
            break;
    }
    ADD_FAILURE() << "no close expectation for " << step_name(step);
    return {};
}

struct FaultCase {
    Flow flow;
    bool via_setcred;  // setcred(PAM_ESTABLISH_CRED / PAM_DELETE_CRED) instead of the session call
    Step step;
    int error;
};

std::string error_name(Step step, int error) {
    if (returns_pam_code(step)) {
        switch (error) {
            case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
            case PAM_BUF_ERR: return "PAM_BUF_ERR";
            case PAM_CONV_ERR: return "PAM_CONV_ERR";
            case PAM_ABORT: return "PAM_ABORT";
            case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
        }
        return "PAM_" + std::to_string(error);
    }
    const char* name = strerrorname_np(error);
    return name != nullptr ? name : std::to_string(error);
}

std::string case_name(const FaultCase& c) {
    std::string phase = c.flow == Flow::open ? (c.via_setcred ? "establish" : "open")
                                             : (c.via_setcred ? "delete" : "close");
    return phase + "_" + step_name(c.step) + "_" + error_name(c.step, c.error);
}

std::ostream& operator<<(std::ostream& out, const FaultCase& c) {
    return out << case_name(c);
}

std::string error_text(Step step, int error) {
    return returns_pam_code(step) ? pam_strerror(nullptr, error) : strerrordesc_np(error);
}

std::vector<FaultCase> all_cases() {
    const std::vector<Step> open_steps{
        Step::get_data, Step::get_user, Step::lookup_user, Step::allocate, Step::set_data,
        Step::read_ids, Step::switch_gids, Step::switch_uids, Step::session_lookup,
        Step::user_session_lookup, Step::describe, Step::join, Step::link,
        Step::link_persistent, Step::restore_uids, Step::restore_gids};
    const std::vector<Step> close_steps{Step::get_data, Step::read_ids, Step::switch_gids,
                                        Step::switch_uids, Step::revoke, Step::restore_uids,
                                        Step::restore_gids};
    std::vector<FaultCase> cases;
    for (bool via_setcred : {false, true}) {
        for (Step step : open_steps) {
            for (int error : failures_of(step)) {
                cases.push_back({Flow::open, via_setcred, step, error});
            }
        }
        for (Step step : close_steps) {
            for (int error : failures_of(step)) {
                cases.push_back({Flow::close, via_setcred, step, error});
            }
        }
    }
    return cases;
}

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

    const Expected want = out_of_memory_rule(
        c.step, c.error,
        c.flow == Flow::open ? expected_open(c.step, c.error) : expected_close(c.step, c.error));
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
            const bool persistent_failed = c.step == Step::link_persistent;
            EXPECT_EQ(key.links.size(), persistent_failed ? 1u : 2u);
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

INSTANTIATE_TEST_SUITE_P(EveryCall, FaultTable, ::testing::ValuesIn(all_cases()),
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
