// SPDX-License-Identifier: BSD-3-Clause
// The handle's life, credentials and failures on the real kernel
// (doc/design.md, "Per-handle state", "Credentials", "Failures").
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <fstream>

#include "seccomp_filters.h"
#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

class Lifecycle : public BothModules {};

TEST_P(Lifecycle, RevokeRevokesTheKeyringAtClose) {
    run_in_child([&] {
        auto log = catch_syslog();
        start_in_root_keyring();
        PamTransaction pam(service_for("force-revoke"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        const key_serial_t made = expect_own_session(alice());
        ASSERT_EQ(pam.close_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(describe_error(made), EKEYREVOKED);
    });
}

TEST_P(Lifecycle, NoRevokeWithoutTheOption) {
    run_in_child([&] {
        auto log = catch_syslog();
        start_in_root_keyring();
        PamTransaction pam(service_for("force"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        const key_serial_t made = expect_own_session(alice());
        ASSERT_EQ(pam.close_session(), PAM_SUCCESS);
        EXPECT_EQ(describe_error(made), 0);
    });
}

TEST_P(Lifecycle, ListedTwiceMakesOneKeyring) {
    run_in_child([&] {
        auto log = catch_syslog();
        start_in_user_session_keyring(alice());
        PamTransaction pam(service_for("twice"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        const key_serial_t made = expect_own_session(alice());
        const auto lines = log.take();
        const char* join_line =
            GetParam() == Module::ours ? "joined new session keyring" : "JOIN =";
        EXPECT_EQ(matching(lines, join_line).size(), 1u) << to_string(lines);
        ASSERT_EQ(pam.close_session(), PAM_SUCCESS);
        EXPECT_EQ(describe_error(made), EKEYREVOKED) << "revoked at the last close";
    });
}

TEST_P(Lifecycle, SetcredBeforeOpenSessionMakesOneKeyring) {
    run_in_child([&] {
        auto log = catch_syslog();
        start_in_user_session_keyring(alice());
        PamTransaction pam(service_for("setcred"), alice().name);
        ASSERT_EQ(pam.setcred(PAM_ESTABLISH_CRED), PAM_SUCCESS) << to_string(log.take());
        const key_serial_t made = expect_own_session(alice());
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(session_keyring(), made);
        ASSERT_EQ(pam.close_session(), PAM_SUCCESS);
        EXPECT_EQ(describe_error(made), EKEYREVOKED) << "revoked at close_session";
        // Deleting the credentials then has nothing left to do: ours says
        // so with success; Linux-PAM ignores the call, and with no other
        // module in the stack libpam turns that into PAM_PERM_DENIED.
        EXPECT_EQ(pam.setcred(PAM_DELETE_CRED),
                  GetParam() == Module::ours ? PAM_SUCCESS : PAM_PERM_DENIED);
    });
}

TEST_P(Lifecycle, IdsAreRestoredAfterOpenAndClose) {
    run_in_child([&] {
        auto log = catch_syslog();
        start_in_root_keyring();
        const ThreadIds before = thread_ids();
        PamTransaction pam(service_for("force-revoke"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(thread_ids(), before) << "after open_session";
        ASSERT_EQ(pam.close_session(), PAM_SUCCESS);
        const ThreadIds after = thread_ids();
        if (GetParam() == Module::ours) {
            EXPECT_EQ(after, before) << "after close_session";
        } else {
            // Linux-PAM switches with setregid(-1, gid) to revoke, which sets
            // the saved GID, and its setregid(-1, 0) back does not reset it.
            EXPECT_EQ(after.sgid, alice().gid) << "Linux-PAM leaves the saved GID as the user's";
            EXPECT_EQ(after.rgid, before.rgid);
            EXPECT_EQ(after.egid, before.egid);
        }
    });
}

INSTANTIATE_TEST_SUITE_P(Stack, Lifecycle, ::testing::Values(Module::ours, Module::stock),
                         ModuleName());

TEST(Arguments, UnknownArgumentsAreLoggedByOursAndIgnoredSilentlyByStock) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            start_in_root_keyring();
            PamTransaction pam(service(module, "unknown"), alice().name);
            ASSERT_EQ(pam.open_session(), PAM_SUCCESS);
            ASSERT_EQ(pam.close_session(), PAM_SUCCESS);
            const auto lines = log.take();
            const auto unknown = matching(lines, "unknown option: revokee");
            if (module == Module::stock) {
                EXPECT_TRUE(matching(lines, "revokee").empty()) << to_string(lines);
                return;
            }
            // Once at open, once at close: arguments are parsed on every call.
            ASSERT_EQ(unknown.size(), 2u) << to_string(lines);
            EXPECT_EQ(unknown[0].priority, LOG_ERR);
            EXPECT_EQ(matching(lines, "unknown option: debug=1").size(), 2u) << to_string(lines);
            EXPECT_EQ(matching(lines, "unknown option: --force").size(), 2u) << to_string(lines);
        });
    }
}

TEST(Persistent, LinksThePersistentKeyring) {
    PAM_KEYINIT_REQUIRE_ROOT();
    run_in_child([] {
        auto log = catch_syslog();
        PamTransaction pam(service(Module::ours, "persistent"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        const key_serial_t session = expect_own_session(alice());
        const auto persistent = find_linked(session, "_persistent." + std::to_string(alice().uid));
        ASSERT_TRUE(persistent) << to_string(log.take());
        EXPECT_EQ(persistent->uid, alice().uid);
    });
    // Linux-PAM has no such option: the persistent keyring is not linked.
    run_in_child([] {
        auto log = catch_syslog();
        PamTransaction pam(service(Module::stock, "persistent"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_FALSE(find_linked(session_keyring(), "_persistent." + std::to_string(alice().uid)));
    });
}

TEST(Persistent, KernelWithoutPersistentKeyringsOnlyCostsAWarning) {
    PAM_KEYINIT_REQUIRE_ROOT();
    run_in_child([] {
        auto log = catch_syslog();
        ASSERT_TRUE(fail_keyctl(KEYCTL_GET_PERSISTENT, std::nullopt, EOPNOTSUPP));
        PamTransaction pam(service(Module::ours, "persistent"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        expect_own_session(alice());
        const auto lines = log.take();
        const auto warnings = matching(lines, "cannot link the persistent keyring");
        ASSERT_EQ(warnings.size(), 1u) << to_string(lines);
        EXPECT_EQ(warnings[0].priority, LOG_WARNING);
        EXPECT_TRUE(warnings[0].contains("Operation not supported"));
    });
}

// A non-root process (a screen locker, a user's own su -l) opens a session
// for itself; it cannot for somebody else. The module and its service file
// are copied where an unprivileged user can read them.
class Unprivileged : public BothModules {
protected:
    std::string make_service(const std::string& directory) const {
        std::string module =
            GetParam() == Module::ours ? directory + "/pam_keyinit.so" : PAM_KEYINIT_STOCK_MODULE;
        if (GetParam() == Module::ours) {
            std::ifstream in(PAM_KEYINIT_MODULE_PATH, std::ios::binary);
            std::ofstream out(module, std::ios::binary);
            out << in.rdbuf();
        }
        std::ofstream(directory + "/unprivileged")
            << "session required " << module << " debug force revoke\n";
        return "unprivileged";
    }
};

TEST_P(Unprivileged, OpensASessionForItselfOnly) {
    char directory[] = "/tmp/pam-keyinit-test.XXXXXX";
    ASSERT_NE(mkdtemp(directory), nullptr);
    ASSERT_EQ(chmod(directory, 0755), 0);
    const std::string service_name = make_service(directory);
    for (bool for_itself : {true, false}) {
        run_in_child([&] {
            auto log = catch_syslog();
            ASSERT_EQ(syscall(SYS_setgroups, 0, nullptr), 0);
            set_thread_ids({alice().uid, alice().uid, alice().uid, alice().gid, alice().gid,
                            alice().gid, alice().uid, alice().gid});
            const ThreadIds before = thread_ids();
            const key_serial_t previous = session_keyring();
            pam_handle_t* pamh = nullptr;
            const pam_conv no_conversation = {nullptr, nullptr};
            const std::string user = for_itself ? alice().name : bob().name;
            ASSERT_EQ(pam_start_confdir(service_name.c_str(), user.c_str(), &no_conversation,
                                        directory, &pamh),
                      PAM_SUCCESS);
            const int opened = pam_open_session(pamh, 0);
            EXPECT_EQ(thread_ids(), before);
            const auto lines = log.take();
            if (for_itself) {
                EXPECT_EQ(opened, PAM_SUCCESS) << to_string(lines);
                EXPECT_NE(expect_own_session(alice()), previous);
                EXPECT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
            } else {
                EXPECT_EQ(opened, PAM_SESSION_ERR) << to_string(lines);
                EXPECT_EQ(session_keyring(), previous);
                if (GetParam() == Module::ours) {
                    const auto errors = matching(lines, "cannot switch to user \"pkt-bob\"");
                    ASSERT_EQ(errors.size(), 1u) << to_string(lines);
                    EXPECT_EQ(errors[0].priority, LOG_ERR);
                    EXPECT_TRUE(errors[0].contains("Operation not permitted"));
                }
            }
            pam_end(pamh, opened);
        });
    }
    std::remove((std::string(directory) + "/unprivileged").c_str());
    std::remove((std::string(directory) + "/pam_keyinit.so").c_str());
    rmdir(directory);
}

INSTANTIATE_TEST_SUITE_P(Stack, Unprivileged, ::testing::Values(Module::ours, Module::stock),
                         ModuleName());

}  // namespace
}  // namespace pam_keyinit::test
