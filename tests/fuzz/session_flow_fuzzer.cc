// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for whole flows: open_session, close_session, setcred
// and authenticate through the module's real session code, against the fake
// system (tests/support/fake_system.h), with fuzzed arguments, a fuzzed
// world (caller, target user, the session keyring: none, another user's,
// the user's, revoked, expired, with any description and ID) and a fuzzed
// schedule of failures (any step, any error, any n-th call), on up to three
// PAM handles interleaved on one thread. An input is read byte by byte from
// its start (missing bytes read as 0):
//   world: caller, user, session keyring, its ID, description length and text
//   failures: a count, then step, error and n-th call for each
//   actions: handle and entry point, then argument bits, for each
// After every call it checks the contract of doc/design.md ("Failures",
// "Per-handle state", "Credentials", "Decision rules"): the thread's six IDs
// are what they were, the result is one the entry point may return in that
// situation, keyring calls run as the user, and a keyring a handle made is
// revoked at most once, only by that handle and only when asked to. ASan finds what leaks.
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

enum class Entry { open, close, establish, delete_cred, refresh, authenticate };

const UserIds alice{1000, 1000};
const UserIds bob{1001, 1001};

struct Action {
    int handle;
    Entry entry;
    std::vector<const char*> args;
    bool revoke = false;
    bool force = false;
    bool inherit = false;
};

Action read_action(Bytes& in) {
    const std::uint8_t what = in.next();
    const std::uint8_t bits = in.next();
    Action action{what % 3, static_cast<Entry>((what / 3) % 6), {}};
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
    }
    return PAM_SUCCESS;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes in(data, size);
    FakeSystem fake;

    // The world.
    const std::uint8_t world = in.next();
    static const ThreadIds callers[] = {
        {0, 0, 0, 0, 0, 0},                    // root
        {0, 0, 5, 0, 0, 7},                    // root, odd saved IDs
        {1000, 1000, 1000, 1000, 1000, 1000},  // alice, for herself
        {1001, 1001, 1001, 1001, 1001, 1001},  // bob
    };
    const ThreadIds caller = callers[world % 4];
    fake.ids = caller;
    fake.passwd = {{"alice", alice}, {"root", {0, 0}}, {"bob", bob}};
    static const char* const users[] = {"alice", "root", "bob", "nobody"};
    fake.user = users[(world / 4) % 4];
    if ((world & 16) != 0) {
        fake.get_user_status = PAM_CONV_ERR;
    }
    const bool user_known = fake.passwd.count(fake.user) != 0;
    const uid_t target = user_known ? fake.passwd[fake.user].uid : 0;

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
        case 4: fake.session = fake.user_session_keyring(target); break;
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
    std::map<KeySerial, int> made_by;  // keyring -> the handle whose call made it
    std::set<KeySerial> revoked_once;
    bool revoke_named[3] = {};  // some call since the handle's set-up named revoke
    for (int step = 0; step < 24 && !in.empty(); ++step) {
        const Action action = read_action(in);
        const HandleState* before = fake.state(action.handle);
        const bool was_set_up = before != nullptr && before->initialised;
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
        for (std::size_t i = lines; i < fake.log.size(); ++i) {
            const test::LoggedLine& line = fake.log[i];
            restore_failed |=
                line.priority == LOG_CRIT && line.text.find("cannot restore") != std::string::npos;
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
        // Keyring calls run as the user.
        for (std::size_t i = keyctls; i < fake.ids_at_keyctl.size(); ++i) {
            require(fake.ids_at_keyctl[i].ruid == target, "a keyring call not made as the user",
                    fake);
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
        }
        if (result == PAM_USER_UNKNOWN) {
            require(!user_known || failure_fired, "a known user reported unknown", fake);
        }
        if (result != PAM_SUCCESS && result != PAM_IGNORE && !get_user_code) {
            require(loud, "a failure without a line saying why", fake);
        }
        if (result == PAM_SUCCESS || result == PAM_IGNORE) {
            require(!error_line, "a line at LOG_ERR or above, yet the call succeeded", fake);
        }
        const bool privileged = caller.euid == 0 || caller.ruid == target;
        if (!failure_fired && user_known && fake.get_user_status == PAM_SUCCESS && privileged) {
            require(result == PAM_SUCCESS || result == PAM_IGNORE,
                    "the call failed with nothing failing", fake);
        }

        // Rules 1 to 5: a set-up that looked leaves a live keyring the user
        // may have.
        if (set_up_call && result == PAM_SUCCESS && !was_set_up && !failure_fired) {
            require(!fake.session_revoked && !fake.session_expired,
                    "a dead session keyring after a set-up", fake);
            const auto found = fake.keys.find(fake.session);
            require(found != fake.keys.end(), "the session keyring is unknown", fake);
            require(
                found->second.owner == target || target == 0 || (action.inherit && !action.force),
                "a set-up left the user in another user's keyring", fake);
        }

        // Keyrings made in this call are this handle's.
        for (std::size_t i = joined; i < fake.joined.size(); ++i) {
            made_by[fake.joined[i]] = action.handle;
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
