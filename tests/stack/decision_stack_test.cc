// SPDX-License-Identifier: BSD-3-Clause
// The decision rules (doc/design.md, "Decision rules") on the real kernel,
// ours and Linux-PAM's side by side.
#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

// Rule 3: a root process with no session keyring of its own.
TEST_P(BothModules, UserSessionKeyringIsReplaced) {
    run_in_child([&] {
        auto log = catch_syslog();
        start_in_user_session_keyring(alice());
        const key_serial_t before = session_keyring();
        PamTransaction pam(service_for("session"), alice().name);
        ASSERT_EQ(pam.started(), PAM_SUCCESS);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_NE(expect_own_session(alice()), before);
        EXPECT_EQ(pam.close_session(), PAM_SUCCESS);
    });
}

// Rule 1.
TEST_P(BothModules, ForceReplacesEvenTheUsersOwnKeyring) {
    run_in_child([&] {
        auto log = catch_syslog();
        const key_serial_t own = start_in_own_keyring(alice());
        PamTransaction pam(service_for("force"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_NE(expect_own_session(alice()), own);
        EXPECT_EQ(pam.close_session(), PAM_SUCCESS);
    });
}

// Rule 5.
TEST_P(BothModules, KeyringTheUserOwnsIsKept) {
    run_in_child([&] {
        auto log = catch_syslog();
        const key_serial_t own = start_in_own_keyring(alice());
        PamTransaction pam(service_for("session"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(session_keyring(), own);
        EXPECT_EQ(pam.close_session(), PAM_SUCCESS);
        EXPECT_EQ(describe_error(own), 0) << "kept, so not revoked either";
    });
}

// Rule 4 waived: both keep root's keyring (Linux-PAM ignores "inherit" and
// keeps it anyway).
TEST_P(BothModules, InheritKeepsARootOwnedKeyring) {
    run_in_child([&] {
        auto log = catch_syslog();
        const key_serial_t root_keyring = start_in_root_keyring();
        PamTransaction pam(service_for("inherit"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(session_keyring(), root_keyring);
        EXPECT_EQ(pam.close_session(), PAM_SUCCESS);
    });
}

TEST_P(BothModules, UnknownUserIsRefused) {
    run_in_child([&] {
        auto log = catch_syslog();
        const key_serial_t before = session_keyring();
        PamTransaction pam(service_for("session"), "pkt-no-such-user");
        ASSERT_EQ(pam.started(), PAM_SUCCESS);
        EXPECT_EQ(pam.open_session(), PAM_USER_UNKNOWN);
        EXPECT_EQ(session_keyring(), before);
        const auto lines = log.take();
        const auto notices = matching(lines, "pkt-no-such-user");
        ASSERT_EQ(notices.size(), 1u) << to_string(lines);
        EXPECT_EQ(notices[0].priority, LOG_NOTICE);
    });
}

INSTANTIATE_TEST_SUITE_P(Decision, BothModules, ::testing::Values(Module::ours, Module::stock),
                         ModuleName());

// Rule 4: where ours differs from Linux-PAM on purpose. A login started from
// a systemd service or a container runs in a root-owned anonymous keyring;
// Linux-PAM keeps it (the user then possesses root's keys), ours replaces it.
TEST(Differences, RootOwnedKeyringIsReplacedByOursAndKeptByStock) {
    PAM_KEYINIT_REQUIRE_ROOT();
    run_in_child([] {
        auto log = catch_syslog();
        const key_serial_t root_keyring = start_in_root_keyring();
        PamTransaction pam(service(Module::ours, "session"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_NE(expect_own_session(alice()), root_keyring);
        const auto lines = log.take();
        const auto explained =
            matching(lines, "replacing the session keyring of user \"pkt-alice\" (uid " +
                                std::to_string(alice().uid) +
                                "): the session keyring belongs to another user");
        ASSERT_EQ(explained.size(), 1u) << to_string(lines);
        EXPECT_EQ(explained[0].priority, LOG_DEBUG);
        EXPECT_EQ(matching(lines, "is \"_ses\", owned by uid 0").size(), 1u) << to_string(lines);
    });
    run_in_child([] {
        auto log = catch_syslog();
        const key_serial_t root_keyring = start_in_root_keyring();
        PamTransaction pam(service(Module::stock, "session"), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(session_keyring(), root_keyring) << "Linux-PAM keeps root's keyring";
        EXPECT_EQ(describe(root_keyring).value_or(Key{}).uid, 0u);
    });
}

// The same through a root process's own user-session keyring: as the user,
// @s is root's "_uid_ses.0", which is not the user's user-session keyring.
TEST(Differences, RootsUserSessionKeyringIsReplacedByOursAndKeptByStock) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            const key_serial_t root_session = session_keyring();  // installs _uid_ses.0 if none
            const auto key = describe(root_session);
            ASSERT_TRUE(key);
            if (key->uid != 0) {
                skip_child("the test process runs in a session keyring owned by uid " +
                           std::to_string(key->uid));
            }
            PamTransaction pam(service(module, "session"), alice().name);
            ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
            if (module == Module::ours) {
                EXPECT_NE(expect_own_session(alice()), root_session);
            } else {
                EXPECT_EQ(session_keyring(), root_session) << "Linux-PAM keeps it";
            }
        });
    }
}

}  // namespace
}  // namespace pam_keyinit::test
