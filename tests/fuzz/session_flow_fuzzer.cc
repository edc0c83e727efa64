// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for whole flows: open_session, close_session, setcred
// and authenticate through the module's real session code, against the fake
// system (tests/support/fake_system.h), with fuzzed arguments, a fuzzed
// world (caller, target user, the session keyring: none, another user's,
// the user's, revoked, expired, with any description and ID) and a fuzzed
// schedule of failures (any step, any error, any n-th call), on up to three
// PAM handles interleaved on one thread. Between calls the caller may attack
// (doc/design.md, "Threat model"): revoke or invalidate its keyring, take
// its permissions away (every lookup then fails), fill the user's key quota
// (every join as the user fails), join another user's keyring, or change
// PAM_USER. An input is read byte by byte from its start (missing bytes read
// as 0):
//   world: caller, user, session keyring, its ID, description length and text
//   failures: a count, then step, error and n-th call for each
//   actions: handle and entry point (or attack), then argument bits, for each
// After every call it checks the contract of doc/design.md ("Threat model",
// "Failures", "Per-handle state", "Credentials", "Decision rules"): the
// thread's eight IDs are what they were, the result is one the entry point
// may return in that situation, keyring calls run as the user (the
// fallback's join as root, a revoke as the user it was made for), a set-up
// that decided leaves the thread in no keyring but the user's own or one it
// made itself, no log line carries a control character, and a keyring a
// handle made is revoked at most once, only by that handle and only when
// asked to. ASan finds what leaks.
#include <keyutils.h>
#include <security/pam_appl.h>
#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fake_system.h"
#include "pam_keyinit/session.h"

namespace {

using namespace pam_keyinit;
using pam_keyinit::test::FakeSystem;
using pam_keyinit::test::Step;

void require(bool holds, const char* what, const FakeSystem& fake) {
    if (!holds) {
        std::fprintf(stderr, "invariant broken: %s\n%s", what, fake.log_text().c_str());
        std::abort();
    }
}

class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return at_ >= size_; }
    std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

constexpr int errnos[] = {ENOMEM,     EDQUOT, EACCES,      EPERM,       EAGAIN, EINTR,
                          EINVAL,     EFAULT, EKEYREVOKED, EKEYEXPIRED, ENOKEY, ENOSYS,
                          EOPNOTSUPP, EIO,    ENOENT,      ERANGE};
constexpr int pam_codes[] = {PAM_SYSTEM_ERR, PAM_BUF_ERR, PAM_CONV_ERR, PAM_ABORT, PAM_INCOMPLETE};

bool is_libpam_step(Step step) {
    return step == Step::get_data || step == Step::get_user || step == Step::set_data;
}

enum class Entry { open, close, establish, delete_cred, refresh, authenticate, attack };

// What the caller does to the thread between two calls.
enum class Attack { revoke, expire, deny_lookups, fill_quota, join_foreign, change_user };

const UserIds alice{1000, 1000};
const UserIds bob{1001, 1001};

struct Action {
    int handle;
    Entry entry;
    Attack attack = Attack::revoke;
    std::vector<const char*> args;
    bool revoke = false;
    bool force = false;
    bool inherit = false;
};

Action read_action(Bytes& in) {
    const std::uint8_t what = in.next();
    const std::uint8_t bits = in.next();
    Action action{what % 3, static_cast<Entry>((what / 3) % 7), Attack::revoke, {}};
    if (action.entry == Entry::attack) {
        action.attack = static_cast<Attack>(bits % 6);
        return action;
    }
    static const char* const names[] = {"debug",      "force",   "revoke", "inherit",
                                        "persistent", "revokee", "",       "force=1"};
    for (int bit = 0; bit < 8; ++bit) {
        if ((bits & (1 << bit)) != 0) {
            action.args.push_back(names[bit]);
        }
    }
    action.revoke = (bits & 4) != 0;
    action.force = (bits & 2) != 0;
    action.inherit = (bits & 8) != 0;
    return action;
}

int call(FakeSystem& fake, const Action& action) {
    pam_handle_t* pamh = fake.pamh(action.handle);
    const int argc = static_cast<int>(action.args.size());
    const char** argv = const_cast<const char**>(action.args.data());
    switch (action.entry) {
        case Entry::open: return initialise(fake.system(), pamh, open_phase, argc, argv);
        case Entry::close: return finish(fake.system(), pamh, close_phase, argc, argv);
        case Entry::establish:
            return set_credentials(fake.system(), pamh, PAM_ESTABLISH_CRED, argc, argv);
        case Entry::delete_cred:
            return set_credentials(fake.system(), pamh, PAM_DELETE_CRED, argc, argv);
        case Entry::refresh:
            return set_credentials(fake.system(), pamh, PAM_REFRESH_CRED, argc, argv);
        case Entry::authenticate: return authenticate(fake.system(), pamh, argc, argv);
        case Entry::attack: break;
    }
    return PAM_SUCCESS;
}

// The caller's move. Returns the keyring it joined, if it joined one.
void attack(FakeSystem& fake, Attack what, std::uint8_t detail) {
    switch (what) {
        case Attack::revoke: fake.session_revoked = true; break;
        case Attack::expire: fake.session_expired = true; break;
        case Attack::deny_lookups:
            // chown + setperm 0x003f0000, or KEYCTL_INVALIDATE: every lookup
            // of @s from now on fails.
            fake.fail_always(Step::session_lookup, detail % 2 == 0 ? EACCES : ENOKEY);
            break;
        case Attack::fill_quota: fake.fail_always(Step::join, EDQUOT); break;
        case Attack::join_foreign: {
            const uid_t owners[] = {0, 1000, 1001, 4242};
            fake.session = fake.add_keyring(owners[detail % 4], "_ses");
            fake.session_revoked = false;
            fake.session_expired = false;
            break;
        }
        case Attack::change_user: {
            static const char* const users[] = {"alice", "root", "bob", "nobody"};
            fake.user = users[detail % 4];
            break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes in(data, size);
    FakeSystem fake;

    // The world.
    const std::uint8_t world = in.next();
    static const ThreadIds callers[] = {
        {0, 0, 0, 0, 0, 0, 0, 0},                          // root
        {0, 0, 5, 0, 0, 7, 0, 0},                          // root, odd saved IDs
        {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000},  // alice, for herself
        {1001, 1001, 1001, 1001, 1001, 1001, 1001, 1001},  // bob
        {0, 0, 0, 0, 0, 0, 4242, 4343},                    // root, own filesystem IDs
        {1001, 0, 0, 1001, 0, 0, 0, 0},                    // bob running a set-uid program
    };
    const ThreadIds caller = callers[world % 6];
    fake.ids = caller;
    fake.passwd = {{"alice", alice},
                   {"root", {0, 0}},
                   {"bob", bob},
                   {"minus-uid", {4294967295u, 1000}},
                   {"minus-gid", {1000, 4294967295u}}};
    static const char* const users[] = {"alice",     "root",      "bob",     "nobody",
                                        "minus-uid", "minus-gid", "al\nice", "\x1b[2J"};
    fake.user = users[(world / 6) % 8];
    if ((world / 48) % 4 == 3) {
        fake.get_user_status = PAM_CONV_ERR;
    }

    const auto target_of = [&fake]() -> std::optional<UserIds> {
        const auto found = fake.passwd.find(fake.user);
        return found == fake.passwd.end() ? std::nullopt : std::optional<UserIds>(found->second);
    };
    const uid_t first_target = target_of() ? target_of()->uid : 0;

    const std::uint8_t keyring = in.next();
    const std::uint8_t id_byte = in.next();
    const KeySerial fuzzed_id = static_cast<KeySerial>(0x100000 + id_byte * 7919);
    auto place = [&](uid_t owner, const char* name) {
        fake.keys[fuzzed_id] = test::FakeKey{fuzzed_id, owner, name, false, {}, std::nullopt};
        fake.session = fuzzed_id;
    };
    switch (keyring % 8) {
        case 0: break;  // none yet: the user-session keyring of whoever looks
        case 1: place(0, "_ses"); break;
        case 2: place(1000, "_ses"); break;
        case 3: place(1001, "_ses"); break;
        case 4: fake.session = fake.user_session_keyring(first_target); break;
        case 5:
            place(0, "_ses");
            fake.session_revoked = true;
            break;
        case 6:
            place(1000, "_ses");
            fake.session_expired = true;
            break;
        case 7: {
            place(static_cast<uid_t>(keyring / 8), "_ses");
            std::string description;
            for (int length = in.next() % 48; length > 0; --length) {
                description.push_back(static_cast<char>(in.next()));
            }
            fake.keys[fuzzed_id].description = description;
            break;
        }
    }
    const KeySerial started_in = fake.session;

    // The failures.
    for (int count = in.next() % 6; count > 0; --count) {
        const Step step = test::all_steps[in.next() % std::size(test::all_steps)];
        const std::uint8_t error = in.next();
        const int nth = in.next() % 4;
        fake.fail(step,
                  is_libpam_step(step) ? pam_codes[error % std::size(pam_codes)]
                                       : errnos[error % std::size(errnos)],
                  nth);
    }

    // The calls.
    std::map<KeySerial, int> made_by;     // keyring -> the handle whose call made it
    std::map<KeySerial, uid_t> made_for;  // keyring -> the user it was made for
    std::set<KeySerial> revoked_once;
    bool revoke_named[3] = {};  // some call since the handle's set-up named revoke
    for (int step = 0; step < 24 && !in.empty(); ++step) {
        const Action action = read_action(in);
        if (action.entry == Entry::attack) {
            attack(fake, action.attack, in.next());
            continue;
        }
        const auto target_ids = target_of();
        const bool user_known = target_ids.has_value();
        const uid_t target = user_known ? target_ids->uid : 0;
        const bool usable_user = user_known && target_ids->uid != static_cast<uid_t>(-1) &&
                                 target_ids->gid != static_cast<gid_t>(-1);
        const HandleState* before = fake.state(action.handle);
        const bool was_set_up = before != nullptr && before->initialised;
        const bool same_user = was_set_up && user_known && before->owner.uid == target_ids->uid &&
                               before->owner.gid == target_ids->gid;
        const std::size_t lookups = fake.count(Step::session_lookup) + fake.count(Step::join);
        const std::size_t lines = fake.log.size();
        const std::size_t fired = fake.fired.size();
        const std::size_t joined = fake.joined.size();
        const std::size_t attempts = fake.revoke_attempts.size();
        const std::size_t keyctls = fake.ids_at_keyctl.size();

        const int result = call(fake, action);
        const bool set_up_call = action.entry == Entry::open || action.entry == Entry::establish;
        if (set_up_call && !was_set_up) {
            revoke_named[action.handle] = action.revoke;
        } else {
            revoke_named[action.handle] |= action.revoke;
        }

        bool failure_fired = fake.fired.size() > fired;
        std::set<int> get_user_codes;
        if (fake.get_user_status != PAM_SUCCESS) {
            get_user_codes.insert(fake.get_user_status);
        }
        for (std::size_t i = fired; i < fake.fired.size(); ++i) {
            if (fake.fired[i].step == Step::get_user) {
                get_user_codes.insert(fake.fired[i].error);
            }
        }
        bool restore_failed = false;
        bool loud = false;
        bool error_line = false;
        bool unavailable = false;
        bool no_keyring_to_be_had = false;
        for (std::size_t i = lines; i < fake.log.size(); ++i) {
            const test::LoggedLine& line = fake.log[i];
            for (char c : line.text) {
                require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f,
                        "a control character in a log line", fake);
            }
            restore_failed |=
                line.priority == LOG_CRIT && line.text.find("cannot restore") != std::string::npos;
            unavailable |= line.text.find("kernel keyrings are unavailable") != std::string::npos;
            no_keyring_to_be_had |=
                line.priority == LOG_CRIT &&
                line.text.find(", nor one owned by root: ") != std::string::npos;
            const bool unknown_option = line.text.rfind("unknown option: ", 0) == 0;
            loud |= line.priority <= LOG_NOTICE && !unknown_option;
            error_line |= line.priority <= LOG_ERR && !unknown_option;
        }

        // Credentials: the six IDs as they were, unless a restore failed,
        // which fails the call at LOG_CRIT (the host must then act).
        if (restore_failed) {
            require(result != PAM_SUCCESS && result != PAM_IGNORE,
                    "a failed restore did not fail the call", fake);
            fake.ids = caller;
        }
        require(fake.ids == caller, "the thread's IDs changed", fake);
        // Keyring calls run as the user; the fallback's join as root; a
        // revoke as the user the keyring was made for.
        std::size_t revokes_seen = attempts;
        for (std::size_t i = keyctls; i < fake.ids_at_keyctl.size(); ++i) {
            const uid_t ruid = fake.ids_at_keyctl[i].ruid;
            if (fake.keyctl_calls[i] == Step::revoke) {
                const auto made = made_for.find(fake.revoke_attempts[revokes_seen++]);
                require(made != made_for.end() && made->second == ruid,
                        "a revoke not made as the user the keyring was made for", fake);
            } else {
                require(ruid == target || (fake.keyctl_calls[i] == Step::join && ruid == 0),
                        "a keyring call not made as the user", fake);
            }
        }

        // The result is one the entry point may return.
        const bool get_user_code = get_user_codes.count(result) != 0;
        switch (action.entry) {
            case Entry::open:
            case Entry::establish: {
                const int phase_error =
                    action.entry == Entry::open ? PAM_SESSION_ERR : PAM_CRED_ERR;
                require(result == PAM_SUCCESS || result == phase_error || result == PAM_BUF_ERR ||
                            result == PAM_USER_UNKNOWN || get_user_code,
                        "set-up returned a code the contract does not allow", fake);
                break;
            }
            case Entry::close:
                require(result == PAM_SUCCESS || result == PAM_SESSION_ERR || result == PAM_BUF_ERR,
                        "close returned a code the contract does not allow", fake);
                break;
            case Entry::delete_cred:
                require(action.revoke ? (result == PAM_SUCCESS || result == PAM_CRED_ERR ||
                                         result == PAM_BUF_ERR)
                                      : result == PAM_IGNORE,
                        "delete returned a code the contract does not allow", fake);
                break;
            case Entry::refresh:
            case Entry::authenticate:
                require(result == PAM_IGNORE, "expected PAM_IGNORE", fake);
                break;
            case Entry::attack: break;  // not a call: handled above
        }
        if (result == PAM_USER_UNKNOWN) {
            require(!user_known || failure_fired, "a known user reported unknown", fake);
        }
        if (set_up_call && user_known && !usable_user && !get_user_code) {
            require(result != PAM_SUCCESS || failure_fired, "a user with an ID of -1 was set up",
                    fake);
        }
        if (result != PAM_SUCCESS && result != PAM_IGNORE && !get_user_code) {
            require(loud, "a failure without a line saying why", fake);
        }
        if (result == PAM_SUCCESS || result == PAM_IGNORE) {
            require(!error_line, "a line at LOG_ERR or above, yet the call succeeded", fake);
        }
        const bool privileged = caller.euid == 0 || caller.ruid == target;
        if (!failure_fired && usable_user && fake.get_user_status == PAM_SUCCESS && privileged) {
            require(result == PAM_SUCCESS || result == PAM_IGNORE,
                    "the call failed with nothing failing", fake);
        }

        // Keyrings made in this call are this handle's, made for the user.
        for (std::size_t i = joined; i < fake.joined.size(); ++i) {
            made_by[fake.joined[i]] = action.handle;
            made_for[fake.joined[i]] = target;
        }

        // Invariant 1: a set-up that decided (it looked, or joined), whatever
        // failed, leaves the thread in the user's own keyring or one it made
        // itself (the fallback: root's, possessed by this session alone),
        // unless inherit keeps the caller's, keyrings are unavailable, or the
        // kernel refused both joins (logged at LOG_CRIT).
        const bool decided = fake.count(Step::session_lookup) + fake.count(Step::join) > lookups;
        if (set_up_call && decided && !unavailable && !no_keyring_to_be_had) {
            const auto found = fake.keys.find(fake.session);
            const bool made_now = std::find(fake.joined.begin() + static_cast<long>(joined),
                                            fake.joined.end(), fake.session) != fake.joined.end();
            const bool own =
                found != fake.keys.end() && found->second.owner == target && !found->second.revoked;
            require(made_now || own || (action.inherit && !action.force),
                    "a set-up left the user in a keyring that is not the user's", fake);
            if (made_now) {
                require(found->second.owner == target || found->second.owner == 0,
                        "a keyring made for the user is owned by someone else", fake);
            }
        }
        // Rules 1 to 5 with nothing failing: a live keyring of the user's.
        if (set_up_call && result == PAM_SUCCESS && !same_user && !failure_fired && decided &&
            !unavailable) {
            require(!fake.session_revoked && !fake.session_expired,
                    "a dead session keyring after a set-up", fake);
        }
        // Revoked: only by the handle that made it, and at most once.
        for (std::size_t i = attempts; i < fake.revoke_attempts.size(); ++i) {
            const KeySerial key = fake.revoke_attempts[i];
            const auto maker = made_by.find(key);
            require(maker != made_by.end(), "revoked a keyring no handle made", fake);
            require(maker->second == action.handle, "revoked another handle's keyring", fake);
            require(revoked_once.insert(key).second, "revoked a keyring twice", fake);
            require(revoke_named[action.handle], "revoked without revoke", fake);
        }
        for (int handle = 0; handle < 3; ++handle) {
            const HandleState* state = fake.state(handle);
            if (state != nullptr && state->made != 0) {
                const auto maker = made_by.find(state->made);
                require(maker != made_by.end() && maker->second == handle,
                        "a handle holds a keyring it did not make", fake);
            }
        }
    }
    require(std::find(fake.revoke_attempts.begin(), fake.revoke_attempts.end(), started_in) ==
                fake.revoke_attempts.end(),
            "revoked the keyring the thread started in", fake);
    return 0;
}
