// SPDX-License-Identifier: BSD-3-Clause
// The entry-point logic against a fake kernel: the flows of doc/design.md
// ("Opening", "Closing") and its failures ("Failures").
#include <gtest/gtest.h>
#include <keyutils.h>
#include <syslog.h>

#include <cerrno>
#include <initializer_list>
#include <vector>

#include "fake_system.h"
#include "pam_keyinit/session.h"

namespace pam_keyinit::test {
namespace {

constexpr ThreadIds root_ids{0, 0, 0, 0, 0, 0, 0, 0};
constexpr ThreadIds alice_real{1000, 0, 0, 1000, 0, 0, 0, 0};

int open(FakeSystem& fake, std::vector<const char*> args) {
    return initialise(fake.system(), fake.pamh(), open_phase, static_cast<int>(args.size()),
                      args.data());
}
int close(FakeSystem& fake, std::vector<const char*> args) {
    return finish(fake.system(), fake.pamh(), close_phase, static_cast<int>(args.size()),
                  args.data());
}
int setcred(FakeSystem& fake, int flags, std::vector<const char*> args) {
    return set_credentials(fake.system(), fake.pamh(), flags, static_cast<int>(args.size()),
                           args.data());
}

bool logged(const FakeSystem& fake, int priority, const std::string& needle) {
    for (const auto& line : fake.lines_at(priority)) {
        if (line.text.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

size_t lines_at_or_above(const FakeSystem& fake, int priority) {
    size_t count = 0;
    for (const auto& line : fake.log) {
        count += line.priority <= priority ? 1 : 0;
    }
    return count;
}

// --- Opening: the decision on the (fake) kernel.

TEST(Open, ReplacesTheUserSessionKeyringAsTheUser) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS) << fake.log_text();
    const KeySerial made = fake.session;
    ASSERT_NE(made, 0);
    EXPECT_EQ(fake.keys[made].name, "_ses");
    EXPECT_EQ(fake.keys[made].owner, 1000u);
    EXPECT_EQ(fake.keys[made].links, std::vector<KeySerial>{fake.user_keyring(1000)});
    for (const ThreadIds& ids : fake.ids_at_keyctl) {
        EXPECT_EQ(ids, alice_real);
    }
    EXPECT_EQ(fake.ids, root_ids);
    EXPECT_EQ(fake.state()->made, made);
    EXPECT_EQ(fake.state()->opens, 1u);
    EXPECT_TRUE(fake.state()->initialised);
    EXPECT_TRUE(fake.log.empty()) << "no debug, no trouble, no lines:\n" << fake.log_text();
}

TEST(Open, ForceReplacesWithoutLookingFurther) {
    FakeSystem fake;
    fake.session = fake.add_keyring(1000, "_ses");
    const KeySerial before = fake.session;
    ASSERT_EQ(open(fake, {"force"}), PAM_SUCCESS);
    EXPECT_NE(fake.session, before);
    EXPECT_EQ(fake.count(Step::describe), 0u);
    EXPECT_EQ(fake.count(Step::join), 1u);
}

TEST(Open, KeepsAKeyringTheUserOwns) {
    FakeSystem fake;
    fake.session = fake.add_keyring(1000, "_ses");
    const KeySerial before = fake.session;
    ASSERT_EQ(open(fake, {"debug"}), PAM_SUCCESS);
    EXPECT_EQ(fake.session, before);
    EXPECT_EQ(fake.count(Step::join), 0u);
    EXPECT_EQ(fake.state()->made, 0);
    EXPECT_TRUE(logged(fake, LOG_DEBUG,
                       "keeping the session keyring of user \"alice\" (uid 1000): "
                       "the session keyring already belongs to the user"))
        << fake.log_text();
}

TEST(Open, ReplacesARootOwnedKeyringAndExplainsWhy) {
    FakeSystem fake;
    fake.session = fake.add_keyring(0, "_ses");
    ASSERT_EQ(open(fake, {"debug"}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::join), 1u);
    EXPECT_TRUE(logged(fake, LOG_DEBUG, "is \"_ses\", owned by uid 0")) << fake.log_text();
    EXPECT_TRUE(logged(fake, LOG_DEBUG,
                       "replacing the session keyring of user \"alice\" (uid "
                       "1000): the session keyring belongs to another user"))
        << fake.log_text();
}

TEST(Open, InheritKeepsARootOwnedKeyring) {
    FakeSystem fake;
    fake.session = fake.add_keyring(0, "_ses");
    ASSERT_EQ(open(fake, {"inherit"}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::join), 0u);
}

TEST(Open, UnreadableOwnerIsTakenAsForeign) {
    FakeSystem fake;
    fake.session = fake.add_keyring(1000, "_ses");
    fake.fail(Step::describe, EACCES);
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::join), 1u);
}

// Rule 4 holds for root too: a root session must not store its secrets in
// a keyring that another user owns and possesses.
TEST(Open, RootTargetGetsAKeyringOfItsOwn) {
    FakeSystem fake;
    fake.user = "root";
    const KeySerial users = fake.add_keyring(1000, "_ses");
    fake.session = users;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
    EXPECT_EQ(fake.count(Step::join), 1u);
    EXPECT_EQ(fake.count(Step::switch_uids), 0u) << "root needs no switch";
    EXPECT_NE(fake.session, users);
    EXPECT_EQ(fake.keys[fake.session].owner, 0u);
    EXPECT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_FALSE(fake.keys[users].revoked);
}

TEST(Open, RootTargetKeepsRootsOwnKeyring) {
    FakeSystem fake;
    fake.user = "root";
    fake.session = fake.add_keyring(0, "_ses");
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::join), 0u);
}

TEST(Open, ReplacesARevokedSessionKeyring) {
    FakeSystem fake;
    fake.session = fake.add_keyring(1000, "_ses");
    fake.session_revoked = true;
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS) << fake.log_text();
    EXPECT_EQ(fake.count(Step::join), 1u);
    EXPECT_FALSE(fake.session_revoked);
}

TEST(Open, PersistentLinksThePersistentKeyring) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"persistent"}), PAM_SUCCESS);
    const auto& links = fake.keys[fake.session].links;
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(fake.keys[links[1]].name, "_persistent.1000");
}

TEST(Open, PersistentUnsupportedOnlyWarns) {
    FakeSystem fake;
    fake.fail(Step::link_persistent, EOPNOTSUPP);
    ASSERT_EQ(open(fake, {"persistent"}), PAM_SUCCESS);
    ASSERT_EQ(fake.lines_at(LOG_WARNING).size(), 1u) << fake.log_text();
    EXPECT_TRUE(logged(fake, LOG_WARNING, "Operation not supported")) << fake.log_text();
    EXPECT_EQ(lines_at_or_above(fake, LOG_ERR), 0u);
}

TEST(Open, WithoutPersistentNoPersistentKeyring) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::link_persistent), 0u);
}

TEST(Open, UnknownOptionsAreLoggedAndIgnored) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revokee", "force", "debug=1", ""}), PAM_SUCCESS);
    EXPECT_TRUE(logged(fake, LOG_ERR, "unknown option: revokee"));
    EXPECT_TRUE(logged(fake, LOG_ERR, "unknown option: debug=1"));
    ASSERT_EQ(fake.lines_at(LOG_ERR).size(), 3u) << fake.log_text();
    EXPECT_EQ(fake.lines_at(LOG_ERR)[2].text, "unknown option: ");
    EXPECT_EQ(fake.lines_at(LOG_DEBUG).size(), 0u) << "debug=1 is not debug";
    EXPECT_EQ(fake.count(Step::join), 1u) << "force still applies";
}

// --- Opening: results and log lines (doc/design.md, "Failures").

TEST(OpenErrors, NoUserNameReturnsTheCodeOfPamGetUser) {
    for (int status : {PAM_CONV_ERR, PAM_SYSTEM_ERR, PAM_BUF_ERR}) {
        FakeSystem fake;
        fake.get_user_status = status;
        EXPECT_EQ(open(fake, {}), status);
        EXPECT_EQ(fake.count(Step::session_lookup), 0u);
        EXPECT_EQ(lines_at_or_above(fake, LOG_NOTICE), 0u) << fake.log_text();
    }
}

TEST(OpenErrors, UnknownUser) {
    FakeSystem fake;
    fake.user = "nobody-here";
    EXPECT_EQ(open(fake, {}), PAM_USER_UNKNOWN);
    EXPECT_TRUE(logged(fake, LOG_NOTICE, "unable to look up user \"nobody-here\""))
        << fake.log_text();
    EXPECT_EQ(fake.count(Step::session_lookup), 0u);
    EXPECT_EQ(fake.state(), nullptr);
}

TEST(OpenErrors, PasswdLookupOutOfMemory) {
    FakeSystem fake;
    fake.fail(Step::lookup_user, ENOMEM);
    EXPECT_EQ(open(fake, {}), PAM_BUF_ERR);
    EXPECT_EQ(fake.lines_at(LOG_CRIT).size(), 1u) << fake.log_text();
}

TEST(OpenErrors, PasswdLookupOtherError) {
    FakeSystem fake;
    fake.fail(Step::lookup_user, EIO);
    EXPECT_EQ(open(fake, {}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_ERR, "cannot look up user \"alice\": Input/output error"));
}

// keyctl() blocked (seccomp) or missing: without force the lookup says so;
// with force, which looks at nothing, both joins do.
TEST(OpenErrors, KeyringsUnavailableStillOpenAndClose) {
    for (bool force : {false, true}) {
        for (int error : {EPERM, ENOSYS}) {
            FakeSystem fake;
            fake.fail_always(Step::session_lookup, error);
            fake.fail_always(Step::join, error);
            std::vector<const char*> args{"revoke"};
            if (force) {
                args.push_back("force");
            }
            EXPECT_EQ(open(fake, args), PAM_SUCCESS);
            ASSERT_EQ(fake.log.size(), 1u) << fake.log_text();
            EXPECT_EQ(fake.log[0].priority, LOG_INFO);
            EXPECT_NE(fake.log[0].text.find("kernel keyrings are unavailable"), std::string::npos);
            EXPECT_EQ(fake.count(Step::join), force ? 2u : 0u);
            EXPECT_EQ(fake.count(Step::session_lookup), force ? 0u : 1u);
            EXPECT_EQ(fake.ids, root_ids);
            EXPECT_EQ(close(fake, args), PAM_SUCCESS);
            EXPECT_EQ(fake.count(Step::revoke), 0u);
            EXPECT_EQ(fake.log.size(), 1u) << fake.log_text();
        }
    }
}

// A caller that took its own keyring's permissions away, or invalidated
// it, cannot make the module keep it (rule 2): the lookup fails, and the
// keyring is replaced, quietly, with or without force.
TEST(OpenErrors, SessionKeyringThatCannotBeLookedUpIsReplaced) {
    for (int error : {EACCES, ENOKEY, EINVAL}) {
        for (bool force : {false, true}) {
            FakeSystem fake;
            const KeySerial callers = fake.add_keyring(1001, "_ses");
            fake.session = callers;
            fake.fail_always(Step::session_lookup, error);
            std::vector<const char*> args{"revoke"};
            if (force) {
                args.push_back("force");
            }
            ASSERT_EQ(open(fake, args), PAM_SUCCESS) << fake.log_text();
            EXPECT_NE(fake.session, callers);
            EXPECT_EQ(fake.keys[fake.session].owner, 1000u);
            EXPECT_EQ(lines_at_or_above(fake, LOG_INFO), 0u) << fake.log_text();
            EXPECT_EQ(fake.count(Step::session_lookup), force ? 0u : 1u)
                << "force looks at nothing";
            EXPECT_EQ(fake.ids, root_ids);
            EXPECT_EQ(close(fake, args), PAM_SUCCESS);
            EXPECT_FALSE(fake.keys[callers].revoked);
        }
    }
}

TEST(OpenErrors, UserSessionLookupFailsAndTheKeyringIsReplaced) {
    FakeSystem fake;
    fake.session = fake.add_keyring(1000, "_ses");
    const KeySerial before = fake.session;
    fake.fail(Step::user_session_lookup, EACCES);
    EXPECT_EQ(open(fake, {"debug"}), PAM_SUCCESS);
    EXPECT_TRUE(
        logged(fake, LOG_DEBUG, "the user-session keyring cannot be looked up: Permission denied"))
        << fake.log_text();
    EXPECT_EQ(lines_at_or_above(fake, LOG_INFO), 0u) << fake.log_text();
    EXPECT_NE(fake.session, before);
    EXPECT_EQ(fake.count(Step::join), 1u);
}

// The fallback: the user's key quota is full (or the join fails for any
// other reason), so the new keyring is joined as root, owned by and charged
// to root, and possessed by this session alone; the call succeeds with a
// warning, and the close revokes it.
TEST(OpenErrors, JoinFailsAndTheFallbackKeyringIsOwnedByRoot) {
    for (int error : {EDQUOT, ENOMEM, EACCES}) {
        FakeSystem fake;
        fake.session = fake.add_keyring(0, "_ses");
        const KeySerial service = fake.session;
        fake.fail(Step::join, error);
        ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
        const KeySerial made = fake.session;
        EXPECT_NE(made, service);
        EXPECT_EQ(fake.keys[made].owner, 0u);
        EXPECT_EQ(fake.keys[made].name, "_ses");
        EXPECT_EQ(fake.keys[made].links, std::vector<KeySerial>{fake.user_keyring(1000)})
            << "alice's user keyring, linked as alice";
        EXPECT_EQ(fake.state()->made, made);
        ASSERT_EQ(fake.ids_at_keyctl.size(), 6u);  // @s, @us, describe, join, join, link
        EXPECT_EQ(fake.ids_at_keyctl[3].ruid, 1000u);
        EXPECT_EQ(fake.ids_at_keyctl[4].ruid, 0u) << "the fallback is joined as root";
        EXPECT_EQ(fake.ids_at_keyctl[5].ruid, 1000u) << "and @u linked as the user";
        const auto warnings = fake.lines_at(LOG_WARNING);
        ASSERT_EQ(warnings.size(), 1u) << fake.log_text();
        EXPECT_EQ(lines_at_or_above(fake, LOG_WARNING), 1u) << fake.log_text();
        EXPECT_NE(warnings[0].text.find("cannot join a new session keyring for user \"alice\": " +
                                        std::string(strerrordesc_np(error)) + "; joined keyring " +
                                        std::to_string(made) +
                                        " owned by root instead, which only this session "
                                        "possesses"),
                  std::string::npos)
            << warnings[0].text;
        EXPECT_EQ(fake.ids, root_ids);
        EXPECT_EQ(close(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
        EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made});
        EXPECT_FALSE(fake.keys[service].revoked);
    }
}

TEST(OpenErrors, FallbackJoinsAndLinksAsTheUserAgain) {
    FakeSystem fake;
    fake.session = fake.add_keyring(0, "_ses");
    fake.fail(Step::join, EDQUOT);
    ASSERT_EQ(open(fake, {"persistent"}), PAM_SUCCESS) << fake.log_text();
    const auto& links = fake.keys[fake.session].links;
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(fake.keys[links[1]].name, "_persistent.1000");
    EXPECT_EQ(fake.ids_at_keyctl.back().ruid, 1000u);
}

// Both joins fail: the one case where the thread keeps a keyring that is
// not the user's, at LOG_CRIT, with the phase's error.
TEST(OpenErrors, BothJoinsFail) {
    for (int error : {EDQUOT, ENOMEM}) {
        FakeSystem fake;
        fake.session = fake.add_keyring(0, "_ses");
        const KeySerial before = fake.session;
        fake.fail_always(Step::join, error);
        EXPECT_EQ(open(fake, {}), error == ENOMEM ? PAM_BUF_ERR : PAM_SESSION_ERR);
        const std::string text = strerrordesc_np(error);
        EXPECT_TRUE(logged(fake, LOG_CRIT,
                           "cannot join a new session keyring for user \"alice\": " + text +
                               ", nor one owned by root: " + text))
            << fake.log_text();
        EXPECT_EQ(lines_at_or_above(fake, LOG_INFO), 1u) << fake.log_text();
        EXPECT_EQ(fake.session, before);
        EXPECT_EQ(fake.ids, root_ids);
        EXPECT_EQ(fake.state()->made, 0);
    }
}

// A caller that cannot become root cannot join the fallback either.
TEST(OpenErrors, UnprivilegedCallerHasNoFallback) {
    FakeSystem fake;
    fake.ids = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    fake.fail(Step::join, EDQUOT);
    EXPECT_EQ(open(fake, {"force"}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_CRIT,
                       "cannot join a new session keyring for user \"alice\": Disk quota "
                       "exceeded, nor one owned by root: Operation not permitted"))
        << fake.log_text();
    EXPECT_EQ(fake.count(Step::join), 1u);
    EXPECT_EQ(fake.ids, (ThreadIds{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}));
}

// Joined as root, the thread must be the user again before it links @u:
// as root, @u is root's own user keyring.
TEST(OpenErrors, FallbackLinksNothingWhenTheThreadCannotBeTheUserAgain) {
    FakeSystem fake;
    fake.session = fake.add_keyring(0, "_ses");
    fake.fail(Step::join, EDQUOT);
    fake.fail(Step::switch_uids, EAGAIN, 3);  // to alice, to root, back to alice
    EXPECT_EQ(open(fake, {"revoke"}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_CRIT, "cannot switch back to user \"alice\" after joining"))
        << fake.log_text();
    EXPECT_EQ(fake.count(Step::link), 0u);
    EXPECT_EQ(fake.keys[fake.session].owner, 0u);
    EXPECT_TRUE(fake.keys[fake.session].links.empty());
    EXPECT_EQ(fake.ids, root_ids);
    EXPECT_EQ(fake.state()->made, fake.session) << "still revoked at the close";
}

TEST(OpenErrors, KernelOutOfMemoryIsBufErr) {
    FakeSystem fake;
    fake.fail_always(Step::join, ENOMEM);
    EXPECT_EQ(open(fake, {}), PAM_BUF_ERR);
    EXPECT_TRUE(logged(fake, LOG_CRIT,
                       "cannot join a new session keyring for user \"alice\": "
                       "Cannot allocate memory"))
        << fake.log_text();
    EXPECT_EQ(fake.ids, root_ids);
}

TEST(OpenErrors, SwitchingToTheUserFails) {
    FakeSystem fake;
    fake.ids = {1001, 1001, 1001, 1001, 1001, 1001, 1001, 1001};  // unprivileged, asking for alice
    EXPECT_EQ(open(fake, {}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_ERR,
                       "cannot switch to user \"alice\" (uid 1000, gid 1000): "
                       "Operation not permitted"))
        << fake.log_text();
    EXPECT_EQ(fake.count(Step::session_lookup), 0u);
    EXPECT_EQ(fake.ids, (ThreadIds{1001, 1001, 1001, 1001, 1001, 1001, 1001, 1001}));
}

TEST(OpenErrors, UnprivilegedCallerForItselfWorks) {
    FakeSystem fake;
    fake.ids = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    EXPECT_EQ(open(fake, {"force"}), PAM_SUCCESS) << fake.log_text();
    EXPECT_EQ(fake.keys[fake.session].owner, 1000u);
}

// (uid_t)-1 tells setresuid() "no change": a user with that ID would be
// set up as root.
TEST(OpenErrors, UserWithIdMinusOneIsRefused) {
    for (bool uid : {true, false}) {
        FakeSystem fake;
        fake.passwd["nobody-at-all"] =
            uid ? UserIds{4294967295u, 1000} : UserIds{1000, 4294967295u};
        fake.user = "nobody-at-all";
        const KeySerial before = fake.add_keyring(0, "_ses");
        fake.session = before;
        EXPECT_EQ(open(fake, {"force"}), PAM_SESSION_ERR);
        EXPECT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {"force"}), PAM_CRED_ERR);
        EXPECT_TRUE(logged(fake, LOG_ERR,
                           std::string("user \"nobody-at-all\" has ") + (uid ? "uid" : "gid") +
                               " 4294967295, which no process can have: refused"))
            << fake.log_text();
        EXPECT_EQ(fake.count(Step::switch_uids) + fake.count(Step::switch_gids), 0u);
        EXPECT_EQ(fake.count(Step::join), 0u);
        EXPECT_EQ(fake.session, before);
    }
}

// Names and descriptions come from outside: escaped, never raw.
TEST(OpenErrors, UntrustedTextIsEscapedInEveryLine) {
    FakeSystem fake;
    fake.user = "evil\nMar  1 00:00:00 host sshd[1]: Accepted\x1b[2J";
    EXPECT_EQ(open(fake, {"debug"}), PAM_USER_UNKNOWN);
    fake.passwd["alice"] = {1000, 1000};
    fake.user = "alice";
    fake.session = fake.add_keyring(0, "x\ny\x1b[31m\"z");
    EXPECT_EQ(open(fake, {"debug", "bad\narg"}), PAM_SUCCESS);
    for (const auto& line : fake.log) {
        for (char c : line.text) {
            EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << line.text;
        }
    }
    EXPECT_TRUE(logged(fake, LOG_NOTICE,
                       "unable to look up user \"evil\\x0aMar  1 00:00:00 host sshd[1]: "
                       "Accepted\\x1b[2J\""))
        << fake.log_text();
    EXPECT_TRUE(logged(fake, LOG_DEBUG, "is \"x\\x0ay\\x1b[31m\\\"z\", owned by uid 0"))
        << fake.log_text();
    EXPECT_TRUE(logged(fake, LOG_ERR, "unknown option: bad\\x0aarg")) << fake.log_text();
}

// A host's own filesystem IDs come back; setresuid() had reset them.
TEST(OpenErrors, FilesystemIdsAreRestored) {
    FakeSystem fake;
    fake.ids = {0, 0, 0, 0, 0, 0, 4242, 4343};
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
    EXPECT_EQ(fake.ids, (ThreadIds{0, 0, 0, 0, 0, 0, 4242, 4343}));
    EXPECT_EQ(fake.count(Step::restore_fsids), 2u);
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
    EXPECT_EQ(fake.ids, (ThreadIds{0, 0, 0, 0, 0, 0, 4242, 4343}));
}

TEST(OpenErrors, FilesystemIdsThatCannotBeRestoredFailTheCall) {
    FakeSystem fake;
    fake.ids = {0, 0, 0, 0, 0, 0, 4242, 0};
    fake.fail(Step::restore_fsids, EPERM);
    EXPECT_EQ(open(fake, {}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_CRIT,
                       "cannot restore the filesystem UID 4242 of the thread: Operation not "
                       "permitted"))
        << fake.log_text();
}

// No system call for filesystem IDs that already are the effective ones.
TEST(OpenErrors, FilesystemIdsThatFollowTheEffectiveOnesCostNothing) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::restore_fsids), 0u);
}

// PAM_USER changed on a set-up handle: the new user gets a keyring of its
// own; what the handle made for the first goes, as at a last close.
TEST(Lifecycle, ChangedUserIsSetUpAfresh) {
    FakeSystem fake;
    fake.passwd["bob"] = {1001, 1001};
    fake.session = fake.add_keyring(0, "_ses");
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {"revoke"}), PAM_SUCCESS);
    const KeySerial alices = fake.session;
    fake.user = "bob";
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
    const KeySerial bobs = fake.session;
    EXPECT_NE(bobs, alices);
    EXPECT_EQ(fake.keys[bobs].owner, 1001u);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{alices});
    EXPECT_TRUE(logged(fake, LOG_NOTICE,
                       "the user changed from uid 1000 to \"bob\" (uid 1001) on this PAM "
                       "handle: setting the session keyring up again"))
        << fake.log_text();
    EXPECT_EQ(fake.state()->opens, 1u);
    EXPECT_EQ(fake.ids, root_ids);
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, (std::vector<KeySerial>{alices, bobs}));
}

TEST(Lifecycle, ChangedUserBetweenTwoOpensKeepsTheCount) {
    FakeSystem fake;
    fake.passwd["bob"] = {1001, 1001};
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    const KeySerial alices = fake.session;
    fake.user = "bob";
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
    EXPECT_EQ(fake.keys[fake.session].owner, 1001u);
    EXPECT_EQ(fake.state()->opens, 2u);
    // A call on the handle named revoke, so what it made goes.
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{alices});
    ASSERT_EQ(close(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{alices}) << "one session is still open";
    ASSERT_EQ(close(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, (std::vector<KeySerial>{alices, fake.session}));
}

// The same user again (a setcred, then the open) is no change.
TEST(Lifecycle, SameUserAgainCountsOnly) {
    FakeSystem fake;
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {}), PAM_SUCCESS);
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::join), 1u);
    EXPECT_TRUE(fake.lines_at(LOG_NOTICE).empty()) << fake.log_text();
}

TEST(OpenErrors, SetcredUsesCredErr) {
    FakeSystem fake;
    fake.fail_always(Step::join, EDQUOT);
    EXPECT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {}), PAM_CRED_ERR);
}

TEST(OpenErrors, LinkFailsAfterJoinAndTheKeyringStays) {
    FakeSystem fake;
    fake.fail(Step::link, EDQUOT);
    EXPECT_EQ(open(fake, {"revoke"}), PAM_SESSION_ERR);
    const KeySerial made = fake.session;
    EXPECT_EQ(fake.keys[made].name, "_ses");
    EXPECT_TRUE(fake.keys[made].links.empty());
    EXPECT_TRUE(logged(fake, LOG_ERR,
                       "cannot link the user keyring of \"alice\" into new session "
                       "keyring " +
                           std::to_string(made) + ": Disk quota exceeded"))
        << fake.log_text();
    EXPECT_EQ(fake.ids, root_ids);
    // The handle made it, so a close still revokes it.
    EXPECT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made});
}

TEST(OpenErrors, OutOfMemoryForTheState) {
    FakeSystem fake;
    fake.fail(Step::allocate, ENOMEM);
    EXPECT_EQ(open(fake, {}), PAM_BUF_ERR);
    EXPECT_EQ(fake.lines_at(LOG_CRIT).size(), 1u);
    EXPECT_EQ(fake.count(Step::session_lookup), 0u)
        << "nothing is changed without a place to record it";
}

TEST(OpenErrors, SetDataFails) {
    {
        FakeSystem fake;
        fake.fail(Step::set_data, PAM_BUF_ERR);
        EXPECT_EQ(open(fake, {}), PAM_BUF_ERR);
        EXPECT_EQ(fake.lines_at(LOG_CRIT).size(), 1u);
        EXPECT_EQ(fake.count(Step::join), 0u);
    }
    {
        FakeSystem fake;
        fake.fail(Step::set_data, PAM_SYSTEM_ERR);
        EXPECT_EQ(open(fake, {}), PAM_SESSION_ERR);
        EXPECT_TRUE(logged(fake, LOG_ERR, "cannot keep the session state")) << fake.log_text();
        EXPECT_EQ(fake.count(Step::join), 0u);
    }
}

TEST(OpenErrors, GetDataFails) {
    FakeSystem fake;
    fake.fail(Step::get_data, PAM_SYSTEM_ERR);
    EXPECT_EQ(open(fake, {}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_ERR, "cannot read this module's state")) << fake.log_text();
}

TEST(OpenErrors, FailedRestoreFailsTheCall) {
    FakeSystem fake;
    fake.fail(Step::restore_gids, EAGAIN);  // switching works, putting the GID back does not
    EXPECT_EQ(open(fake, {}), PAM_SESSION_ERR);
    EXPECT_EQ(fake.lines_at(LOG_CRIT).size(), 1u) << fake.log_text();
    EXPECT_EQ(fake.ids.ruid, 0u) << "the UIDs were restored";
}

// --- The handle's life: counting, revoking.

TEST(Lifecycle, RevokeAtCloseRevokesWhatWasMadeAsTheUser) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    const KeySerial made = fake.session;
    fake.ids_at_keyctl.clear();
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made});
    ASSERT_EQ(fake.ids_at_keyctl.size(), 1u);
    EXPECT_EQ(fake.ids_at_keyctl[0], alice_real);
    EXPECT_EQ(fake.ids, root_ids);
}

TEST(Lifecycle, NoRevokeWithoutTheOption) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    ASSERT_EQ(close(fake, {}), PAM_SUCCESS);
    EXPECT_TRUE(fake.revoked.empty());
}

TEST(Lifecycle, NeverRevokesAKeyringItDidNotMake) {
    FakeSystem fake;
    fake.session = fake.add_keyring(1000, "_ses");
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::revoke), 0u);
}

TEST(Lifecycle, ListedTwiceMakesOneKeyringAndRevokesAtTheLastClose) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::join), 1u);
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_TRUE(fake.revoked.empty());
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked.size(), 1u);
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS) << "an extra close is harmless";
    EXPECT_EQ(fake.revoked.size(), 1u);
}

TEST(Lifecycle, SetcredThenOpenMakesOneKeyringRevokedAtTheLastClose) {
    FakeSystem fake;
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {"revoke"}), PAM_SUCCESS);
    const KeySerial made = fake.session;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.session, made);
    EXPECT_EQ(fake.count(Step::join), 1u);
    // setcred does not count as an open: an application that never deletes
    // its credentials still gets the keyring revoked at close_session.
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made});
    ASSERT_EQ(setcred(fake, PAM_DELETE_CRED | PAM_SILENT, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made}) << "revoked once";
}

TEST(Lifecycle, DeleteCredRevokesWhenNoSessionIsOpen) {
    FakeSystem fake;
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {"revoke"}), PAM_SUCCESS);
    const KeySerial made = fake.session;
    ASSERT_EQ(setcred(fake, PAM_DELETE_CRED, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked, std::vector<KeySerial>{made});
}

TEST(Lifecycle, DeleteCredLeavesAnOpenSessionToItsClose) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    ASSERT_EQ(setcred(fake, PAM_DELETE_CRED, {"revoke"}), PAM_SUCCESS);
    EXPECT_TRUE(fake.revoked.empty());
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked.size(), 1u);
}

TEST(Lifecycle, DeleteCredWithoutRevokeIsIgnored) {
    FakeSystem fake;
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {}), PAM_SUCCESS);
    EXPECT_EQ(setcred(fake, PAM_DELETE_CRED, {}), PAM_IGNORE);
    EXPECT_TRUE(fake.revoked.empty());
}

TEST(Lifecycle, RevokeRequestedOnOneLineIsHonouredAtTheLastClose) {
    FakeSystem fake;
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {"revoke"}), PAM_SUCCESS);
    ASSERT_EQ(open(fake, {}), PAM_SUCCESS);
    ASSERT_EQ(close(fake, {}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked.size(), 1u);
}

TEST(Lifecycle, OtherSetcredFlagsAreIgnored) {
    FakeSystem fake;
    EXPECT_EQ(setcred(fake, PAM_REINITIALIZE_CRED, {}), PAM_IGNORE);
    EXPECT_EQ(setcred(fake, PAM_REFRESH_CRED, {"revokee"}), PAM_IGNORE);
    EXPECT_TRUE(logged(fake, LOG_ERR, "unknown option: revokee"));
    EXPECT_EQ(fake.count(Step::session_lookup), 0u);
}

TEST(Lifecycle, AuthenticateIsIgnored) {
    FakeSystem fake;
    EXPECT_EQ(authenticate(fake.system(), fake.pamh(), 0, nullptr), PAM_IGNORE);
    EXPECT_TRUE(fake.calls.empty());
}

TEST(Lifecycle, CloseWithoutOpenDoesNothing) {
    FakeSystem fake;
    EXPECT_EQ(close(fake, {"revoke", "revokee"}), PAM_SUCCESS);
    EXPECT_EQ(fake.count(Step::revoke), 0u);
    EXPECT_TRUE(logged(fake, LOG_ERR, "unknown option: revokee"))
        << "close parses its arguments too";
}

TEST(Lifecycle, AlreadyRevokedCountsAsRevoked) {
    for (int error : {EKEYREVOKED, ENOKEY}) {
        FakeSystem fake;
        ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
        fake.fail(Step::revoke, error);
        EXPECT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
        EXPECT_EQ(lines_at_or_above(fake, LOG_ERR), 0u) << fake.log_text();
    }
}

TEST(Lifecycle, FailedRevokeIsReported) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    const KeySerial made = fake.session;
    fake.fail(Step::revoke, EACCES);
    EXPECT_EQ(close(fake, {"revoke"}), PAM_SESSION_ERR);
    EXPECT_TRUE(
        logged(fake, LOG_ERR,
               "cannot revoke session keyring " + std::to_string(made) + ": Permission denied"))
        << fake.log_text();
    EXPECT_EQ(fake.ids, root_ids);
}

TEST(Lifecycle, FailedRevokeInSetcredIsCredErr) {
    FakeSystem fake;
    ASSERT_EQ(setcred(fake, PAM_ESTABLISH_CRED, {"revoke"}), PAM_SUCCESS);
    fake.fail(Step::revoke, EACCES);
    EXPECT_EQ(setcred(fake, PAM_DELETE_CRED, {"revoke"}), PAM_CRED_ERR);
}

TEST(Lifecycle, SwitchFailureAtRevoke) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    fake.fail(Step::switch_gids, EAGAIN, 2);  // the open switched; the close cannot
    EXPECT_EQ(close(fake, {"revoke"}), PAM_SESSION_ERR);
    EXPECT_TRUE(logged(fake, LOG_ERR, "cannot switch to uid 1000 to revoke")) << fake.log_text();
    EXPECT_EQ(fake.count(Step::revoke), 0u);
}

TEST(Lifecycle, FailedRestoreAfterRevokeFailsTheClose) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    fake.fail(Step::restore_uids, EAGAIN, 2);  // the open restored; the close cannot
    EXPECT_EQ(close(fake, {"revoke"}), PAM_SESSION_ERR);
    EXPECT_EQ(fake.lines_at(LOG_CRIT).size(), 1u) << fake.log_text();
    EXPECT_EQ(fake.revoked.size(), 1u);
}

TEST(Lifecycle, ReopeningAfterTheLastCloseStartsAfresh) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS);
    const KeySerial first = fake.session;
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    ASSERT_EQ(open(fake, {"revoke"}), PAM_SUCCESS) << fake.log_text();
    EXPECT_NE(fake.session, first) << "the revoked keyring is replaced";
    ASSERT_EQ(close(fake, {"revoke"}), PAM_SUCCESS);
    EXPECT_EQ(fake.revoked.size(), 2u);
}

TEST(Lifecycle, DebugExplainsEveryStep) {
    FakeSystem fake;
    ASSERT_EQ(open(fake, {"debug", "revoke"}), PAM_SUCCESS);
    ASSERT_EQ(close(fake, {"debug", "revoke"}), PAM_SUCCESS);
    const std::string text = fake.log_text();
    for (const char* needle :
         {"the user-session keyring is", "replacing the session keyring of user \"alice\"",
          "user-session keyring, so the process has none of its own", "joined new session keyring",
          "\"_uid.1000\"", "revoked session keyring"}) {
        EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
    }
    EXPECT_EQ(lines_at_or_above(fake, LOG_INFO), 0u) << text;
}

// Debugging only adds lines: the module makes the same calls, in the same
// order, so that the n-th call a fault table fails is the same call.
TEST(Debug, MakesNoCallOfItsOwn) {
    for (const char* option : {"force", "persistent"}) {
        FakeSystem quiet;
        FakeSystem loud;
        ASSERT_EQ(open(quiet, {"revoke", option}), PAM_SUCCESS);
        ASSERT_EQ(open(loud, {"revoke", "debug", option}), PAM_SUCCESS);
        ASSERT_EQ(close(quiet, {"revoke"}), PAM_SUCCESS);
        ASSERT_EQ(close(loud, {"revoke", "debug"}), PAM_SUCCESS);
        EXPECT_EQ(loud.calls, quiet.calls) << option;
        EXPECT_TRUE(quiet.log.empty()) << quiet.log_text();
        EXPECT_FALSE(loud.log.empty());
    }
}

// Each fake keeps its world behind its own context: one open does not
// touch the other fake.
TEST(Seam, TwoFakesCoexist) {
    FakeSystem first;
    FakeSystem second;
    second.user = "root";
    ASSERT_EQ(open(first, {}), PAM_SUCCESS);
    EXPECT_TRUE(second.calls.empty());
    EXPECT_EQ(second.state(), nullptr);
    ASSERT_EQ(open(second, {}), PAM_SUCCESS);
    EXPECT_EQ(first.keys[first.session].owner, 1000u);
    EXPECT_EQ(second.keys[second.session].owner, 0u);
}

}  // namespace
}  // namespace pam_keyinit::test
