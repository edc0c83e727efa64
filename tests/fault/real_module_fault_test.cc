// Fault injection into the shipped module in a real PAM stack on the real
// kernel. Each case runs in a forked child that makes exactly one call of
// the module fail: a libpam call through the interposed functions of
// libpam_faults.h, a keyctl() operation or a setresuid()/setresgid()/
// getresuid() call through a seccomp filter told apart by its arguments
// (the switch to the user passes -1 as the effective ID, the restore passes
// the caller's own 0). It asserts the PAM result, the module's one line at
// LOG_INFO or above (priority, step, the error's text), the thread's IDs as
// /proc shows them, and the session keyring: unchanged (a marker key in the
// keyring the thread started in is still there), fully set up, or revoked.
#include <gtest/gtest.h>
#include <keyutils.h>
#include <sys/syscall.h>
#include <syslog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fault_stack.h"
#include "stack.h"
#include "libpam_faults.h"
#include "syscall_faults.h"

namespace pam_keyinit::test {
namespace {

constexpr ThreadIds caller_ids{0, 0, 5, 0, 0, 7};
constexpr std::uint32_t unchanged_id = 0xffffffffu;

enum class Flow { open, close };

enum class Step {
    get_data, get_user, getpwnam, set_data,
    read_ids, switch_gids, switch_uids,
    session_lookup, user_session_lookup, describe, join, link, link_persistent,
    restore_uids, restore_gids,
    revoke,
};

const char* step_name(Step step) {
    switch (step) {
        case Step::get_data: return "pam_get_data";
        case Step::get_user: return "pam_get_user";
        case Step::getpwnam: return "getpwnam";
        case Step::set_data: return "pam_set_data";
        case Step::read_ids: return "getresuid";
        case Step::switch_gids: return "setresgid_switch";
        case Step::switch_uids: return "setresuid_switch";
        case Step::session_lookup: return "keyctl_get_session";
        case Step::user_session_lookup: return "keyctl_get_user_session";
        case Step::describe: return "keyctl_describe";
        case Step::join: return "keyctl_join";
        case Step::link: return "keyctl_link";
        case Step::link_persistent: return "keyctl_get_persistent";
        case Step::restore_uids: return "setresuid_restore";
        case Step::restore_gids: return "setresgid_restore";
        case Step::revoke: return "keyctl_revoke";
    }
    return "?";
}

bool returns_pam_code(Step step) {
    return step == Step::get_data || step == Step::get_user || step == Step::set_data;
}

std::vector<int> failures_of(Step step) {
    const std::vector<int> keyctl_errors{ENOMEM, EDQUOT, EACCES, EPERM, EAGAIN, EINTR, EINVAL,
                                         EFAULT, EKEYREVOKED, EKEYEXPIRED, ENOKEY, ENOSYS};
    switch (step) {
        case Step::get_data: return {PAM_SYSTEM_ERR};
        case Step::get_user:
            return {PAM_SYSTEM_ERR, PAM_BUF_ERR, PAM_CONV_ERR, PAM_ABORT, PAM_INCOMPLETE};
        // 0: no such user (errno untouched by NSS).
        case Step::getpwnam: return {0, ENOMEM, EIO, EMFILE, ENFILE, EAGAIN};
        case Step::set_data: return {PAM_BUF_ERR, PAM_SYSTEM_ERR};
        case Step::read_ids: return {EFAULT};
        case Step::switch_gids:
        case Step::switch_uids:
        case Step::restore_uids:
        case Step::restore_gids: return {EPERM, EAGAIN, EINVAL};
        case Step::link_persistent: {
            auto errors = keyctl_errors;
            errors.push_back(EOPNOTSUPP);
            return errors;
        }
        default: return keyctl_errors;
    }
}

// Arms the failure in this (child) process.
bool inject(Step step, int error) {
    const auto key_spec = [](int special) { return std::optional<std::int32_t>(special); };
    const auto id = [](std::uint32_t value) { return std::optional<std::uint32_t>(value); };
    switch (step) {
        case Step::get_data:
            fail_pam_call(PamCall::get_data, error, module_calls(PamCall::get_data) + 1);
            return true;
        case Step::get_user:
            fail_pam_call(PamCall::get_user, error, module_calls(PamCall::get_user) + 1);
            return true;
        case Step::getpwnam:
            fail_pam_call(PamCall::getpwnam, error, module_calls(PamCall::getpwnam) + 1);
            return true;
        case Step::set_data:
            fail_pam_call(PamCall::set_data, error, module_calls(PamCall::set_data) + 1);
            return true;
        case Step::read_ids: return fail_syscall(SYS_getresuid, std::nullopt, std::nullopt, error);
        case Step::switch_gids: return fail_syscall(SYS_setresgid, std::nullopt, id(unchanged_id), error);
        case Step::switch_uids: return fail_syscall(SYS_setresuid, std::nullopt, id(unchanged_id), error);
        case Step::restore_uids: return fail_syscall(SYS_setresuid, id(0), std::nullopt, error);
        case Step::restore_gids: return fail_syscall(SYS_setresgid, id(0), std::nullopt, error);
        case Step::session_lookup:
            return fail_keyctl(KEYCTL_GET_KEYRING_ID, key_spec(KEY_SPEC_SESSION_KEYRING), error);
        case Step::user_session_lookup:
            return fail_keyctl(KEYCTL_GET_KEYRING_ID, key_spec(KEY_SPEC_USER_SESSION_KEYRING), error);
        case Step::describe: return fail_keyctl(KEYCTL_DESCRIBE, std::nullopt, error);
        case Step::join: return fail_keyctl(KEYCTL_JOIN_SESSION_KEYRING, std::nullopt, error);
        case Step::link: return fail_keyctl(KEYCTL_LINK, std::nullopt, error);
        case Step::link_persistent: return fail_keyctl(KEYCTL_GET_PERSISTENT, std::nullopt, error);
        case Step::revoke: return fail_keyctl(KEYCTL_REVOKE, std::nullopt, error);
    }
    return false;
}

enum class Keyring { unchanged, set_up, set_up_without_persistent, joined_unlinked, revoked,
                     not_revoked };

constexpr int phase_error = -1;

struct Expected {
    int result;
    std::optional<int> priority;
    std::string step_text;
    bool names_error;
    Keyring keyring;
    bool ids_restored = true;
};

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
    const bool unavailable = error == EPERM || error == ENOSYS;
    switch (step) {
        case Step::get_data:
            return {phase_error, LOG_ERR, "cannot read this module's state", true, Keyring::unchanged};
        case Step::get_user:
            return {error, std::nullopt, "", false, Keyring::unchanged};
        case Step::getpwnam:
            if (error == ENOMEM) {
                return {PAM_BUF_ERR, LOG_CRIT, "out of memory looking up user", false,
                        Keyring::unchanged};
            }
            // The shipped lookup cannot tell an NSS failure from a missing
            // entry (pam_modutil_getpwnam() keeps only errno), so both are
            // an unknown user, as in Linux-PAM.
            return {PAM_USER_UNKNOWN, LOG_NOTICE, "unable to look up user", false,
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
            return {phase_error, LOG_ERR, "cannot switch to user \"pkt-fault\"", true,
                    Keyring::unchanged};
        case Step::session_lookup:
            if (unavailable) {
                return {PAM_SUCCESS, LOG_INFO, "kernel keyrings are unavailable", true,
                        Keyring::unchanged};
            }
            if (error == EKEYREVOKED || error == EKEYEXPIRED) {
                return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
            }
            return {phase_error, LOG_ERR, "cannot look up the session keyring", true,
                    Keyring::unchanged};
        case Step::user_session_lookup:
            return {phase_error, LOG_ERR, "cannot look up the user-session keyring", true,
                    Keyring::unchanged};
        case Step::describe:
            // The case starts in a keyring of the user's own, which is kept
            // when its owner can be read: replaced here, as foreign.
            return {PAM_SUCCESS, std::nullopt, "", false, Keyring::set_up};
        case Step::join:
            return {phase_error, LOG_ERR, "cannot join a new session keyring for user \"pkt-fault\"",
                    true, Keyring::unchanged};
        case Step::link:
            return {phase_error, LOG_ERR, "cannot link the user keyring of \"pkt-fault\"", true,
                    Keyring::joined_unlinked};
        case Step::link_persistent:
            return {PAM_SUCCESS, LOG_WARNING, "cannot link the persistent keyring of \"pkt-fault\"",
                    true, Keyring::set_up_without_persistent};
        case Step::restore_uids:
            return {phase_error, LOG_CRIT, "cannot restore UIDs 0/0/5", true, Keyring::set_up, false};
        case Step::restore_gids:
            return {phase_error, LOG_CRIT, "cannot restore GIDs 0/0/7", true, Keyring::set_up, false};
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
            return {phase_error, LOG_ERR, "to revoke session keyring", true, Keyring::not_revoked};
        case Step::revoke:
            if (error == EKEYREVOKED || error == ENOKEY) {
                return {PAM_SUCCESS, std::nullopt, "", false, Keyring::not_revoked};
            }
            return {phase_error, LOG_ERR, "cannot revoke session keyring", true, Keyring::not_revoked};
        case Step::restore_uids:
            return {phase_error, LOG_CRIT, "cannot restore UIDs 0/0/5", true, Keyring::revoked, false};
        case Step::restore_gids:
            return {phase_error, LOG_CRIT, "cannot restore GIDs 0/0/7", true, Keyring::revoked, false};
        default:
            break;
    }
    ADD_FAILURE() << "no close expectation for " << step_name(step);
    return {};
}

struct RealFault {
    Flow flow;
    bool via_setcred;
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
    if (error == 0) {
        return "not_found";
    }
    const char* name = strerrorname_np(error);
    return name != nullptr ? name : std::to_string(error);
}

std::string case_name(const RealFault& c) {
    const std::string phase = c.flow == Flow::open ? (c.via_setcred ? "establish" : "open")
                                                   : (c.via_setcred ? "delete" : "close");
    return phase + "_" + step_name(c.step) + "_" + error_name(c.step, c.error);
}

std::ostream& operator<<(std::ostream& out, const RealFault& c) {
    return out << case_name(c);
}

std::string error_text(Step step, int error) {
    return returns_pam_code(step) ? pam_strerror(nullptr, error) : strerrordesc_np(error);
}

std::vector<RealFault> all_cases() {
    const std::vector<Step> open_steps{
        Step::get_data, Step::get_user, Step::getpwnam, Step::set_data, Step::read_ids,
        Step::switch_gids, Step::switch_uids, Step::session_lookup, Step::user_session_lookup,
        Step::describe, Step::join, Step::link, Step::link_persistent, Step::restore_uids,
        Step::restore_gids};
    const std::vector<Step> close_steps{Step::get_data, Step::read_ids, Step::switch_gids,
                                        Step::switch_uids, Step::revoke, Step::restore_uids,
                                        Step::restore_gids};
    std::vector<RealFault> cases;
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

int run_phase(pam_handle_t* pamh, Flow flow, bool via_setcred) {
    if (flow == Flow::open) {
        return via_setcred ? pam_setcred(pamh, PAM_ESTABLISH_CRED) : pam_open_session(pamh, 0);
    }
    return via_setcred ? pam_setcred(pamh, PAM_DELETE_CRED) : pam_close_session(pamh, 0);
}

// The session keyring's description: keyctl when it may, /proc/keys when
// KEYCTL_DESCRIBE is what was made to fail.
std::optional<ProcKey> session_description(bool describe_blocked) {
    if (describe_blocked) {
        return proc_key(keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0));
    }
    if (auto key = describe(KEY_SPEC_SESSION_KEYRING)) {
        return ProcKey{0, "", key->uid, key->type, key->name};
    }
    return std::nullopt;
}

class RealModuleFault : public ::testing::TestWithParam<RealFault> {
protected:
    void SetUp() override { PAM_KEYINIT_REQUIRE_ROOT(); }
};

TEST_P(RealModuleFault, OneCallFails) {
    const RealFault c = GetParam();
    run_in_child([&] {
        auto log = catch_syslog();
        const TestUser& user = fault_user();
        const key_serial_t user_keyring = user_keyring_of(user);
        const key_serial_t persistent_keyring = [&] {
            const ThreadIds before = thread_ids();
            set_thread_real_ids(user.uid, user.gid);
            // Linked into a process keyring: a place that the checks below
            // do not look at.
            const long id = keyctl_get_persistent(static_cast<uid_t>(-1), KEY_SPEC_PROCESS_KEYRING);
            set_thread_ids(before);
            return static_cast<key_serial_t>(id);
        }();
        const key_serial_t started_in = c.step == Step::describe ? start_in_own_keyring(user)
                                                                 : start_in_root_keyring();
        const key_serial_t marker =
            add_key("user", "pkt-fault-marker", "x", 1, KEY_SPEC_SESSION_KEYRING);
        ASSERT_GT(marker, 0) << std::strerror(errno);
        set_thread_ids(caller_ids);
        pam_handle_t* pamh = start_fault_service(user.name);
        ASSERT_NE(pamh, nullptr);

        if (c.flow == Flow::close) {
            ASSERT_EQ(run_phase(pamh, Flow::open, c.via_setcred), PAM_SUCCESS) << to_string(log.take());
            ASSERT_NE(session_keyring(), started_in);
            log.take();
        }
        const key_serial_t session_before = session_keyring();

        ASSERT_TRUE(inject(c.step, c.error)) << "cannot set the fault up";
        const int result = run_phase(pamh, c.flow, c.via_setcred);
        const ThreadIds ids_after = ids_from_proc();
        const auto lines = log.take();
        const auto loud = module_lines(lines);

        const Expected want = out_of_memory_rule(
            c.step, c.error,
            c.flow == Flow::open ? expected_open(c.step, c.error) : expected_close(c.step, c.error));
        const int phase_code = c.via_setcred ? PAM_CRED_ERR : PAM_SESSION_ERR;
        EXPECT_EQ(result, want.result == phase_error ? phase_code : want.result)
            << pam_strerror(pamh, result) << "\n" << to_string(lines);
        if (returns_pam_code(c.step) || c.step == Step::getpwnam) {
            const PamCall call = c.step == Step::get_data   ? PamCall::get_data
                                 : c.step == Step::get_user ? PamCall::get_user
                                 : c.step == Step::set_data ? PamCall::set_data
                                                            : PamCall::getpwnam;
            EXPECT_GT(module_calls(call), 0) << "the module's call did not reach the interposer";
        }

        if (!want.priority) {
            EXPECT_TRUE(loud.empty()) << to_string(lines);
        } else {
            ASSERT_EQ(loud.size(), 1u) << to_string(lines);
            EXPECT_EQ(loud[0].priority, *want.priority) << loud[0].text;
            EXPECT_TRUE(loud[0].contains(want.step_text))
                << "want \"" << want.step_text << "\" in: " << loud[0].text;
            if (want.names_error) {
                EXPECT_TRUE(loud[0].contains(error_text(c.step, c.error)))
                    << "want \"" << error_text(c.step, c.error) << "\" in: " << loud[0].text;
            }
        }

        if (want.ids_restored) {
            EXPECT_EQ(ids_after, caller_ids);
        } else if (c.step == Step::restore_uids) {
            EXPECT_EQ(ids_after, (ThreadIds{user.uid, 0, 5, 0, 0, 7}))
                << "GIDs restored, the real UID left as the failed restore found it";
        } else {
            EXPECT_EQ(ids_after, (ThreadIds{0, 0, 5, user.gid, 0, 7}))
                << "UIDs restored, the real GID left as the failed restore found it";
        }

        // The keyring, read back with calls the filter leaves alone.
        const std::vector<key_serial_t> linked = contents(KEY_SPEC_SESSION_KEYRING);
        switch (want.keyring) {
            case Keyring::unchanged:
                EXPECT_EQ(linked, std::vector<key_serial_t>{marker})
                    << "the thread must still be in the keyring it started in";
                break;
            case Keyring::set_up:
            case Keyring::set_up_without_persistent:
            case Keyring::joined_unlinked: {
                const auto key = session_description(c.step == Step::describe);
                ASSERT_TRUE(key) << "the session keyring cannot be read";
                EXPECT_EQ(key->name, "_ses");
                EXPECT_EQ(key->uid, user.uid);
                std::vector<key_serial_t> want_linked;
                if (want.keyring != Keyring::joined_unlinked) {
                    want_linked.push_back(user_keyring);
                }
                if (want.keyring == Keyring::set_up) {
                    want_linked.push_back(persistent_keyring);
                }
                EXPECT_EQ(linked, want_linked);
                break;
            }
            case Keyring::revoked:
                EXPECT_EQ(describe_error(session_before), EKEYREVOKED);
                break;
            case Keyring::not_revoked:
                EXPECT_EQ(describe_error(session_before), 0) << "the keyring must not be revoked";
                EXPECT_EQ(linked, (std::vector<key_serial_t>{user_keyring, persistent_keyring}));
                break;
        }
        if (c.step != Step::describe) {
            EXPECT_EQ(describe_error(started_in), 0)
                << "never revoke a keyring the module did not make";
        }
    });
}

INSTANTIATE_TEST_SUITE_P(EveryCall, RealModuleFault, ::testing::ValuesIn(all_cases()),
                         [](const auto& test_info) { return case_name(test_info.param); });

}  // namespace
}  // namespace pam_keyinit::test
