// SPDX-License-Identifier: BSD-3-Clause
// Fault injection into the shipped module in a real PAM stack on the real
// kernel. Each case runs in a forked child that makes exactly one call of
// the module fail: a libpam call through the interposed functions of
// libpam_faults.h, a keyctl() operation or a setresuid()/setresgid()/
// getresuid() call through a seccomp filter told apart by its arguments
// (the switch to the user passes -1 as the effective ID, the restore passes
// the caller's own 0). It asserts the PAM result, the module's one line at
// LOG_INFO or above (priority, step, the error's text), the thread's IDs as
// /proc shows them, and the session keyring: unchanged (a marker key in the
// keyring the thread started in is still there), fully set up, or revoked,
// as the table in fault_expectations.h, shared with the fake kernel's cases,
// gives.
#include <gtest/gtest.h>
#include <keyutils.h>
#include <sys/syscall.h>
#include <syslog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fault_expectations.h"
#include "fault_stack.h"
#include "libpam_faults.h"
#include "pam_keyinit/thread_ids.h"
#include "seccomp_filters.h"
#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

using namespace fault_table;

constexpr std::uint32_t unchanged_id = 0xffffffffu;

// The shipped module looks its user up with getpwnam_r()
// and allocates nothing of its own; the real kernel may lack persistent
// keyrings. The user is fault_user(), whose IDs useradd chose.
const Table table{
    .lookup = Step::getpwnam,
    .allocates = false,
    .persistent_may_be_unsupported = true,
    .texts =
        {
            .unknown_user = "unable to look up user",
            .lookup_failed = "cannot look up user \"pkt-fault\"",
            .switch_to_user = "cannot switch to user \"pkt-fault\"",
            .join = "cannot join a new session keyring for user \"pkt-fault\"",
            .link = "cannot link the user keyring of \"pkt-fault\"",
            .link_persistent = "cannot link the persistent keyring of \"pkt-fault\"",
            .restore_uids = "cannot restore UIDs 0/0/5",
            .restore_gids = "cannot restore GIDs 0/0/7",
            .switch_to_revoke = "to revoke session keyring",
        },
};

// Arms the failure in this (child) process.
bool inject(Step step, int error) {
    const auto key_spec = [](int special) { return std::optional<std::int32_t>(special); };
    const auto id = [](std::uint32_t value) { return std::optional<std::uint32_t>(value); };
    if (is_libpam_step(step)) {
        fail_pam_call(step, error, module_calls(step) + 1);
        return true;
    }
    switch (step) {
        case Step::read_ids:
            return fail_syscall(thread_ids::getresuid_call, std::nullopt, std::nullopt, error);
        case Step::switch_gids:
            return fail_syscall(thread_ids::setresgid_call, std::nullopt, id(unchanged_id), error);
        case Step::switch_uids:
            return fail_syscall(thread_ids::setresuid_call, std::nullopt, id(unchanged_id), error);
        case Step::restore_uids:
            return fail_syscall(thread_ids::setresuid_call, id(0), std::nullopt, error);
        case Step::restore_gids:
            return fail_syscall(thread_ids::setresgid_call, id(0), std::nullopt, error);
        case Step::session_lookup:
            return fail_keyctl(KEYCTL_GET_KEYRING_ID, key_spec(KEY_SPEC_SESSION_KEYRING), error);
        case Step::user_session_lookup:
            return fail_keyctl(KEYCTL_GET_KEYRING_ID, key_spec(KEY_SPEC_USER_SESSION_KEYRING),
                               error);
        case Step::describe: return fail_keyctl(KEYCTL_DESCRIBE, std::nullopt, error);
        case Step::join: return fail_keyctl(KEYCTL_JOIN_SESSION_KEYRING, std::nullopt, error);
        case Step::link: return fail_keyctl(KEYCTL_LINK, std::nullopt, error);
        case Step::link_persistent: return fail_keyctl(KEYCTL_GET_PERSISTENT, std::nullopt, error);
        case Step::revoke: return fail_keyctl(KEYCTL_REVOKE, std::nullopt, error);
        case Step::get_data:
        case Step::get_user:
        case Step::getpwnam:
        case Step::set_data: break;  // libpam's, above
        case Step::lookup_user:
        case Step::allocate:
        case Step::restore_fsids: break;  // the fake's steps: not in this table
    }
    return false;
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

class RealModuleFault : public ::testing::TestWithParam<FaultCase> {
protected:
    void SetUp() override { PAM_KEYINIT_REQUIRE_ROOT(); }
};

TEST_P(RealModuleFault, OneCallFails) {
    const FaultCase c = GetParam();
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
        const key_serial_t started_in =
            c.step == Step::describe ? start_in_own_keyring(user) : start_in_root_keyring();
        const key_serial_t marker =
            add_key("user", "pkt-fault-marker", "x", 1, KEY_SPEC_SESSION_KEYRING);
        ASSERT_GT(marker, 0) << std::strerror(errno);
        set_thread_ids(caller_ids);
        pam_handle_t* pamh = start_fault_service(user.name);
        ASSERT_NE(pamh, nullptr);

        if (c.flow == Flow::close) {
            ASSERT_EQ(run_phase(pamh, Flow::open, c.via_setcred), PAM_SUCCESS)
                << to_string(log.take());
            ASSERT_NE(session_keyring(), started_in);
            log.take();
        }
        const key_serial_t session_before = session_keyring();

        ASSERT_TRUE(inject(c.step, c.error)) << "cannot set the fault up";
        const int result = run_phase(pamh, c.flow, c.via_setcred);
        const ThreadIds ids_after = ids_from_proc();
        const auto lines = log.take();
        std::vector<LoudLine> loud;
        for (const LogLine& line : module_lines(lines)) {
            loud.push_back({line.priority, line.text});
        }

        const Expected want = expected(table, c.flow, c.step, c.error);
        const int phase_code = c.via_setcred ? PAM_CRED_ERR : PAM_SESSION_ERR;
        EXPECT_EQ(result, want.result == phase_error ? phase_code : want.result)
            << pam_strerror(pamh, result) << "\n"
            << to_string(lines);
        if (is_libpam_step(c.step)) {
            EXPECT_GT(module_calls(c.step), 0) << "the module's call did not reach the interposer";
        }
        expect_loud_lines(loud, want, c.step, c.error, to_string(lines));

        if (want.ids_restored) {
            EXPECT_EQ(ids_after, caller_ids);
        } else if (c.step == Step::restore_uids) {
            EXPECT_EQ(ids_after, (ThreadIds{user.uid, 0, 5, 0, 0, 7, 0, 0}))
                << "GIDs restored, the real UID left as the failed restore found it";
        } else {
            EXPECT_EQ(ids_after, (ThreadIds{0, 0, 5, user.gid, 0, 7, 0, 0}))
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
            case Keyring::revoked: EXPECT_EQ(describe_error(session_before), EKEYREVOKED); break;
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

INSTANTIATE_TEST_SUITE_P(EveryCall, RealModuleFault, ::testing::ValuesIn(all_cases(table)),
                         [](const auto& test_info) { return case_name(test_info.param); });

}  // namespace
}  // namespace pam_keyinit::test
