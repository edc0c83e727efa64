// SPDX-License-Identifier: BSD-3-Clause
// What a hostile caller or a hostile target user can try against a session
// (doc/design.md, "Threat model"), on the real kernel with real libpam.
// Ours is held to the invariants; what Linux-PAM's module does in the same
// place is printed beside it, not asserted (it is not ours to fix, and
// differs between releases).
#include <keyutils.h>
#include <sys/syscall.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include "pam_keyinit/thread_ids.h"
#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

std::vector<LogLine> module_lines_at_or_above(const std::vector<LogLine>& lines, int priority) {
    std::vector<LogLine> found;
    for (const LogLine& line : lines) {
        if (line.text.rfind("pam_keyinit(", 0) == 0 && line.priority <= priority) {
            found.push_back(line);
        }
    }
    return found;
}

std::string to_text(const ThreadIds& ids) {
    std::ostringstream out;
    out << ids;
    return out.str();
}

// One line for the console: what the stock module left the thread in.
void report_stock(const char* attack, key_serial_t attackers) {
    const key_serial_t now = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
    const int error = now < 0 ? errno : 0;
    const auto key = now > 0 ? describe(now) : std::nullopt;
    std::string where;
    if (now == attackers || error == EACCES || error == ENOKEY) {
        where = "the attacker's keyring " + std::to_string(attackers);
    } else if (key) {
        where = "keyring " + std::to_string(now) + " of uid " + std::to_string(key->uid);
    } else {
        where = std::strerror(error);
    }
    std::printf("[   INFO   ] %s: stock leaves the thread in %s\n", attack, where.c_str());
}

// The caller of a set-uid login program (here bob: real UID bob, effective
// UID root) takes every permission away from its own session keyring, or
// invalidates it, before PAM looks: the module cannot look it up, and must
// not leave alice's session in it (rule 2). With force, nothing is looked at.
enum class Spoil { permissions, invalidate };

key_serial_t callers_spoiled_keyring(Spoil spoil) {
    const TestUser& caller = bob();
    set_thread_ids({caller.uid, 0, 0, caller.gid, 0, 0, 0, 0});
    const key_serial_t keyring = keyctl_join_session_keyring(nullptr);
    EXPECT_GT(keyring, 0) << std::strerror(errno);
    EXPECT_EQ(describe(keyring).value_or(Key{}).uid, caller.uid);
    if (spoil == Spoil::permissions) {
        // Possessor: nothing; owner: everything (the caller gives it back
        // once the session stored its secrets there).
        EXPECT_EQ(keyctl_setperm(keyring, 0x003f0000), 0) << std::strerror(errno);
        EXPECT_EQ(keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0), -1);
        EXPECT_EQ(errno, EACCES);
    } else {
        EXPECT_EQ(keyctl_invalidate(keyring), 0) << std::strerror(errno);
    }
    return keyring;
}

struct SpoilCase {
    Spoil spoil;
    const char* service;
};

void PrintTo(const SpoilCase& c, std::ostream* out) {
    *out << (c.spoil == Spoil::permissions ? "permissions taken away" : "invalidated") << ", "
         << c.service;
}

class CallerSpoilsItsKeyring : public ::testing::TestWithParam<SpoilCase> {
protected:
    void SetUp() override { PAM_KEYINIT_REQUIRE_ROOT(); }
};

TEST_P(CallerSpoilsItsKeyring, TheSessionGetsAKeyringOfItsOwn) {
    const SpoilCase c = GetParam();
    run_in_child([&] {
        auto log = catch_syslog();
        const key_serial_t callers = callers_spoiled_keyring(c.spoil);
        PamTransaction pam(service(Module::ours, c.service), alice().name);
        ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
        const key_serial_t made = expect_own_session(alice());
        EXPECT_NE(made, callers);
        EXPECT_TRUE(module_lines_at_or_above(log.take(), LOG_INFO).empty());
        EXPECT_EQ(pam.close_session(), PAM_SUCCESS) << to_string(log.take());
        EXPECT_EQ(describe_error(made), EKEYREVOKED);
    });
    run_in_child([&] {
        auto log = catch_syslog();
        const key_serial_t callers = callers_spoiled_keyring(c.spoil);
        PamTransaction pam(service(Module::stock, c.service), alice().name);
        const int opened = pam.open_session();
        std::printf("[   INFO   ] stock open_session: %s\n", pam_strerror(nullptr, opened));
        report_stock(c.service, callers);
    });
}

INSTANTIATE_TEST_SUITE_P(Attacks, CallerSpoilsItsKeyring,
                         ::testing::Values(SpoilCase{Spoil::permissions, "force-revoke"},
                                           SpoilCase{Spoil::permissions, "revoke"},
                                           SpoilCase{Spoil::invalidate, "force-revoke"},
                                           SpoilCase{Spoil::invalidate, "revoke"}),
                         [](const auto& test_info) {
                             std::string name = test_info.param.spoil == Spoil::permissions
                                                    ? "NoPermissions_"
                                                    : "Invalidated_";
                             for (const char* c = test_info.param.service; *c != '\0'; ++c) {
                                 name += *c == '-' ? '_' : *c;
                             }
                             return name;
                         });

// A root target from a user's keyring (sudo -i, su -l with lines without
// force): root gets a keyring of its own, not one the user owns.
TEST(Attacks, RootTargetFromAUsersKeyringGetsItsOwn) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            const key_serial_t users = start_in_own_keyring(alice());
            PamTransaction pam(service(module, "revoke"), "root");
            ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
            if (module == Module::stock) {
                report_stock("root target", users);
                return;
            }
            const key_serial_t made = session_keyring();
            ASSERT_NE(made, users);
            const auto key = describe(made);
            ASSERT_TRUE(key);
            EXPECT_EQ(key->name, "_ses");
            EXPECT_EQ(key->uid, 0u);
            EXPECT_TRUE(find_linked(made, "_uid.0"));
            EXPECT_EQ(pam.close_session(), PAM_SUCCESS) << to_string(log.take());
            EXPECT_EQ(describe_error(made), EKEYREVOKED);
        });
    }
}

// A host that chose filesystem IDs of its own (setfsuid/setfsgid, per
// thread) gets them back after open and close: setresuid() resets them.
TEST(Attacks, FilesystemIdsAreRestored) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            start_in_root_keyring();
            // pam_start reads the service file, which filesystem IDs of
            // 12345 may not reach (a checkout under /root, mode 0700): the
            // host sets them after pam_start, before the session calls.
            PamTransaction pam(service(module, "force-revoke"), alice().name);
            ASSERT_EQ(pam.started(), PAM_SUCCESS);
            syscall(thread_ids::setfsuid_call, 12345);
            syscall(thread_ids::setfsgid_call, 23456);
            const ThreadIds before = thread_ids();
            ASSERT_EQ(before.fsuid, 12345u);
            ASSERT_EQ(before.fsgid, 23456u);
            ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
            const ThreadIds after_open = thread_ids();
            ASSERT_EQ(pam.close_session(), PAM_SUCCESS) << to_string(log.take());
            const ThreadIds after_close = thread_ids();
            if (module == Module::stock) {
                std::printf("[   INFO   ] stock: IDs before %s, after open %s, after close %s\n",
                            to_text(before).c_str(), to_text(after_open).c_str(),
                            to_text(after_close).c_str());
                return;
            }
            EXPECT_EQ(after_open, before);
            EXPECT_EQ(after_close, before);
        });
    }
}

// PAM_USER changed between setcred(PAM_ESTABLISH_CRED) and open_session on
// one handle: the second user must not be left in the first one's keyring.
TEST(Attacks, ChangedUserBetweenSetcredAndOpenGetsItsOwnKeyring) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            start_in_root_keyring();
            PamTransaction pam(service(module, "setcred"), alice().name);
            ASSERT_EQ(pam.setcred(PAM_ESTABLISH_CRED), PAM_SUCCESS) << to_string(log.take());
            const key_serial_t alices = session_keyring();
            keep_reference(alices);
            ASSERT_EQ(pam.set_user(bob().name), PAM_SUCCESS);
            ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
            const auto lines = log.take();
            if (module == Module::stock) {
                report_stock("user changed", alices);
                return;
            }
            const key_serial_t bobs = expect_own_session(bob());
            EXPECT_NE(bobs, alices);
            EXPECT_EQ(describe_error(alices), EKEYREVOKED) << "alice's keyring went with her";
            const auto notices =
                matching(lines, "the user changed from uid " + std::to_string(alice().uid) +
                                    " to \"" + bob().name + "\"");
            ASSERT_EQ(notices.size(), 1u) << to_string(lines);
            EXPECT_EQ(notices[0].priority, LOG_NOTICE);
            EXPECT_EQ(pam.close_session(), PAM_SUCCESS) << to_string(log.take());
            EXPECT_EQ(describe_error(bobs), EKEYREVOKED);
        });
    }
}

// A close on a thread that was there before the open does not possess the
// keyring the open joined: the kernel refuses the revoke, and ours says so
// and why, where Linux-PAM reports success.
TEST(Attacks, CloseOnAnotherThreadSaysWhyItCannotRevoke) {
    PAM_KEYINIT_REQUIRE_ROOT();
    for (Module module : {Module::ours, Module::stock}) {
        run_in_child([module] {
            auto log = catch_syslog();
            start_in_root_keyring();
            std::atomic<int> stage{0};
            int closed = -1;
            PamTransaction pam(service(module, "force-revoke"), alice().name);
            std::thread closer([&] {
                while (stage.load() != 1) {
                    std::this_thread::yield();
                }
                closed = pam.close_session();
            });
            ASSERT_EQ(pam.open_session(), PAM_SUCCESS) << to_string(log.take());
            const key_serial_t made = session_keyring();
            stage = 1;
            closer.join();
            const auto lines = log.take();
            if (module == Module::stock) {
                std::printf("[   INFO   ] stock: close on another thread returns %s; keyring %s\n",
                            pam_strerror(nullptr, closed),
                            describe_error(made) == EKEYREVOKED ? "revoked" : "not revoked");
                return;
            }
            EXPECT_EQ(closed, PAM_SESSION_ERR);
            EXPECT_EQ(describe_error(made), 0);
            const auto loud = module_lines_at_or_above(lines, LOG_INFO);
            ASSERT_EQ(loud.size(), 1u) << to_string(lines);
            EXPECT_EQ(loud[0].priority, LOG_ERR);
            EXPECT_TRUE(loud[0].contains("cannot revoke session keyring " + std::to_string(made) +
                                         ": Permission denied (only a thread that possesses it "
                                         "can: was the session opened on another thread?)"))
                << loud[0].text;
        });
    }
}

}  // namespace
}  // namespace pam_keyinit::test
