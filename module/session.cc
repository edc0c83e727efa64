// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/session.h"

#include <keyutils.h>
#include <security/pam_ext.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "pam_keyinit/credentials.h"
#include "pam_keyinit/decision.h"
#include "pam_keyinit/key_description.h"
#include "pam_keyinit/log.h"
#include "pam_keyinit/options.h"
#include "pam_keyinit/printable.h"

namespace pam_keyinit {
namespace {

// Everything one PAM call works with.
struct Call {
    const System& system;
    pam_handle_t* pamh;
    Phase phase;
    Log log;
    Options options;
};

void report_unknown_option(void* context, std::string_view argument) {
    static_cast<Log*>(context)->line(LOG_ERR, "unknown option: %s", Printable(argument).c_str());
}

// Every entry point starts here: its arguments are parsed, and an unknown
// one reported, on every call.
Call begin_call(const System& system, pam_handle_t* pamh, Phase phase, int argc,
                const char** argv) noexcept {
    Call call{system, pamh, phase, Log(system, pamh), {}};
    call.options = parse_options(argc, argv, report_unknown_option, &call.log);
    call.log.enable_debug(call.options.debug);
    return call;
}

void release_state(pam_handle_t*, void* data, int) {
    // Nothing to say at pam_end(): PAM_DATA_SILENT or not, just free.
    std::free(data);
}

// PAM_SUCCESS with *state null when this handle has none yet.
int find_state(Call& call, HandleState** state) {
    const void* data = nullptr;
    const int status = call.system.get_data(call.pamh, handle_state_name, &data);
    if (status == PAM_NO_MODULE_DATA) {
        *state = nullptr;
        return PAM_SUCCESS;
    }
    if (status != PAM_SUCCESS) {
        return call.log.fail(call.phase.error, LOG_ERR,
                             "cannot read this module's state from the PAM handle: %s",
                             pam_strerror(call.pamh, status));
    }
    *state = static_cast<HandleState*>(const_cast<void*>(data));
    return PAM_SUCCESS;
}

int create_state(Call& call, HandleState** state) {
    void* memory = call.system.allocate(sizeof(HandleState));
    if (memory == nullptr) {
        return call.log.fail(PAM_BUF_ERR, LOG_CRIT, "out of memory for the session state");
    }
    const int status = call.system.set_data(call.pamh, handle_state_name, memory, release_state);
    if (status != PAM_SUCCESS) {
        std::free(memory);
        if (status == PAM_BUF_ERR) {
            return call.log.fail(PAM_BUF_ERR, LOG_CRIT,
                                 "out of memory keeping the session state in the PAM handle");
        }
        return call.log.fail(call.phase.error, LOG_ERR,
                             "cannot keep the session state in the PAM handle: %s",
                             pam_strerror(call.pamh, status));
    }
    // calloc()ed memory is a valid HandleState: all its members are zero.
    *state = static_cast<HandleState*>(memory);
    return PAM_SUCCESS;
}

struct Target {
    const char* name;
    UserIds ids;
};

// The target's name as the log shows it (doc/design.md, "Logging").
struct ShownName {
    explicit ShownName(const char* name) noexcept : printable(name) {}
    const char* c_str() const noexcept { return printable.c_str(); }
    Printable printable;
};

int find_target(Call& call, Target* target) {
    const char* name = nullptr;
    const int status = call.system.get_user(call.pamh, &name);
    if (status != PAM_SUCCESS) {
        call.log.debug("%s: no user name: %s", call.phase.name, pam_strerror(call.pamh, status));
        return status;
    }
    if (name == nullptr) {
        name = "";
    }
    const int error = call.system.lookup_user(call.pamh, name, &target->ids);
    if (error == -ENOENT) {
        return call.log.fail(PAM_USER_UNKNOWN, LOG_NOTICE, "unable to look up user \"%s\"",
                             ShownName(name).c_str());
    }
    if (error < 0) {
        return call.log.fail_errno(call.phase.error, error, "cannot look up user \"%s\"",
                                   ShownName(name).c_str());
    }
    // (uid_t)-1 tells setresuid() to change nothing: the thread would stay
    // root while the module believed it was the user.
    constexpr auto no_uid = static_cast<uid_t>(-1);
    constexpr auto no_gid = static_cast<gid_t>(-1);
    if (target->ids.uid == no_uid || target->ids.gid == no_gid) {
        const bool bad_uid = target->ids.uid == no_uid;
        return call.log.fail(call.phase.error, LOG_ERR,
                             "user \"%s\" has %s %u, which no process can have: refused",
                             ShownName(name).c_str(), bad_uid ? "uid" : "gid",
                             bad_uid ? target->ids.uid : target->ids.gid);
    }
    target->name = name;
    return PAM_SUCCESS;
}

// Room for "type;uid;gid;perm;" and the longest description the kernel keeps.
using DescriptionBuffer = std::array<char, 4096 + 64>;

std::optional<KeyDescription> describe(const System& system, KeySerial key,
                                       DescriptionBuffer& buffer) {
    const long length = system.describe_key(key, buffer.data(), buffer.size());
    if (length < 0 || static_cast<std::size_t>(length) > buffer.size()) {
        return std::nullopt;
    }
    return parse_key_description(std::string_view(buffer.data(), static_cast<std::size_t>(length)));
}

void debug_session_keyring(Call& call, KeySerial session,
                           const std::optional<KeyDescription>& seen) {
    if (!call.log.debugging()) {
        return;
    }
    if (seen) {
        // The name is the caller's to choose: anything may be in it.
        call.log.debug("%s: session keyring %d is \"%s\", owned by uid %u", call.phase.name,
                       session, Printable(seen->name).c_str(), seen->uid);
    } else {
        call.log.debug("%s: session keyring %d cannot be described", call.phase.name, session);
    }
}

// Reads what rules 2 to 4 need. A keyring that cannot be looked up or
// described is left out of seen, and the rules replace it.
void observe(Call& call, KeySerial session, Observation* seen) {
    const long user_session = call.system.keyring_id(KEY_SPEC_USER_SESSION_KEYRING);
    if (user_session < 0) {
        call.log.debug("%s: the user-session keyring cannot be looked up: %s", call.phase.name,
                       errno_text(static_cast<int>(-user_session)));
        return;
    }
    seen->user_session = static_cast<KeySerial>(user_session);
    DescriptionBuffer buffer;
    const auto description = describe(call.system, session, buffer);
    if (description) {
        seen->session_owner = description->uid;
    }
    debug_session_keyring(call, session, description);
    call.log.debug("%s: the user-session keyring is %ld", call.phase.name, user_session);
}

bool is_unavailable(long result) {
    return result == -ENOSYS || result == -EPERM;
}

void report_unavailable(Call& call, HandleState& state, long error) {
    // A kernel without keys, or a container whose seccomp filter blocks
    // keyctl(): there is no keyring to protect, so the login goes on.
    call.log.line(LOG_INFO, "kernel keyrings are unavailable (%s): session keyring left as it is",
                  errno_text(static_cast<int>(-error)));
    state.initialised = true;
}

// The fallback of doc/design.md, "Decision rules": a new keyring joined
// with the real UID root's, so owned by and charged to root, which no one
// but this session possesses. A serial or a negative errno; *back is false
// when the thread could not be made the user again (then nothing may be
// linked: as root, @u is root's own keyring).
long join_owned_by_root(Call& call, ActingAsUser& as_user, const Target& target, bool* back) {
    *back = true;
    if (int error = as_user.switch_real_uid(0); error < 0) {
        return error;
    }
    const long joined = call.system.join_new_session_keyring();
    if (as_user.switch_real_uid(target.ids.uid) < 0) {
        *back = false;
    }
    return joined;
}

// Joins a new session keyring and links the user's keyrings into it.
// looked: whether the session keyring was looked up first (not with force).
int replace_session_keyring(Call& call, ActingAsUser& as_user, const Target& target,
                            HandleState& state, bool looked) {
    long joined = call.system.join_new_session_keyring();
    bool owned_by_root = false;
    if (joined < 0) {
        // The thread still has the keyring it had, which the rules found is
        // not the user's (or did not look at): it must not keep it.
        const long error = joined;
        bool back = true;
        joined = target.ids.uid != 0 ? join_owned_by_root(call, as_user, target, &back) : error;
        if (joined < 0) {
            if (!looked && is_unavailable(error) && is_unavailable(joined)) {
                report_unavailable(call, state, error);
                return PAM_SUCCESS;
            }
            call.log.line(LOG_CRIT,
                          "cannot join a new session keyring for user \"%s\": %s, nor one "
                          "owned by root: %s",
                          ShownName(target.name).c_str(), errno_text(static_cast<int>(-error)),
                          errno_text(static_cast<int>(-joined)));
            return error == -ENOMEM ? PAM_BUF_ERR : call.phase.error;
        }
        state.made = static_cast<KeySerial>(joined);
        state.owner = target.ids;
        state.initialised = true;
        if (!back) {
            return call.log.fail(call.phase.error, LOG_CRIT,
                                 "cannot switch back to user \"%s\" after joining session "
                                 "keyring %ld owned by root: it links nothing",
                                 ShownName(target.name).c_str(), joined);
        }
        call.log.line(LOG_WARNING,
                      "cannot join a new session keyring for user \"%s\": %s; joined keyring "
                      "%ld owned by root instead, which only this session possesses",
                      ShownName(target.name).c_str(), errno_text(static_cast<int>(-error)), joined);
        owned_by_root = true;
    }
    const auto made = static_cast<KeySerial>(joined);
    // From here on the thread has the new keyring whatever else fails (a join
    // cannot be undone), so the handle owns it and a close may revoke it.
    state.made = made;
    state.owner = target.ids;
    state.initialised = true;

    const long linked = call.system.link_key(KEY_SPEC_USER_KEYRING, made);
    if (linked < 0) {
        return call.log.fail_errno(
            call.phase.error, linked,
            "cannot link the user keyring of \"%s\" into new session keyring %d",
            ShownName(target.name).c_str(), made);
    }
    // Debugging makes no system call of its own: the calls, and so what a
    // failure of the n-th call does, are the same with and without debug.
    call.log.debug(
        "%s: joined new session keyring %d (\"_ses\", owned by uid %u) and linked the "
        "user keyring (\"_uid.%u\") into it",
        call.phase.name, made, owned_by_root ? 0U : target.ids.uid, target.ids.uid);

    if (call.options.persistent) {
        const long persistent = call.system.link_persistent_keyring(made);
        if (persistent < 0) {
            call.log.line(
                LOG_WARNING,
                "cannot link the persistent keyring of \"%s\" into session keyring %d: %s",
                ShownName(target.name).c_str(), made, errno_text(static_cast<int>(-persistent)));
        } else {
            call.log.debug("%s: linked persistent keyring %ld (\"_persistent.%u\") into it",
                           call.phase.name, persistent, target.ids.uid);
        }
    }
    return PAM_SUCCESS;
}

// Runs with the thread's real IDs already the target user's.
int set_up_as_user(Call& call, ActingAsUser& as_user, const Target& target, HandleState& state) {
    Observation seen;
    // With force nothing is looked at: whatever the caller did to its
    // keyring, the session gets a new one.
    if (!call.options.force) {
        const long session = call.system.keyring_id(KEY_SPEC_SESSION_KEYRING);
        if (is_unavailable(session)) {
            report_unavailable(call, state, session);
            return PAM_SUCCESS;
        }
        if (session < 0) {
            seen.session_error = static_cast<int>(-session);
            call.log.debug("%s: the session keyring cannot be looked up: %s", call.phase.name,
                           errno_text(seen.session_error));
        } else {
            seen.session = static_cast<KeySerial>(session);
            observe(call, *seen.session, &seen);
        }
    }

    const Decision decision = decide(
        seen, target.ids.uid, {.force = call.options.force, .inherit = call.options.inherit});
    const char* verdict = decision.verdict == Verdict::replace ? "replacing" : "keeping";
    call.log.debug("%s: %s the session keyring of user \"%s\" (uid %u): %s", call.phase.name,
                   verdict, ShownName(target.name).c_str(), target.ids.uid,
                   explain(decision.reason));
    if (decision.verdict == Verdict::keep) {
        state.initialised = true;
        return PAM_SUCCESS;
    }
    return replace_session_keyring(call, as_user, target, state, !call.options.force);
}

int set_up(Call& call, const Target& target, HandleState& state) {
    ActingAsUser as_user(call.system, call.log);
    if (int error = as_user.enter(target.ids); error < 0) {
        return call.log.fail_errno(call.phase.error, error,
                                   "cannot switch to user \"%s\" (uid %u, gid %u)",
                                   ShownName(target.name).c_str(), target.ids.uid, target.ids.gid);
    }
    int status = set_up_as_user(call, as_user, target, state);
    if (!as_user.restore()) {
        status = call.phase.error;
    }
    return status;
}

int revoke(Call& call, KeySerial keyring, UserIds owner) {
    ActingAsUser as_user(call.system, call.log);
    if (int error = as_user.enter(owner); error < 0) {
        return call.log.fail_errno(call.phase.error, error,
                                   "cannot switch to uid %u to revoke session keyring %d",
                                   owner.uid, keyring);
    }
    int status = PAM_SUCCESS;
    const long revoked = call.system.revoke_key(keyring);
    if (revoked == -EKEYREVOKED || revoked == -ENOKEY) {
        call.log.debug("%s: session keyring %d was already revoked or gone", call.phase.name,
                       keyring);
    } else if (revoked == -EACCES) {
        // Only possession gives the right to revoke a session keyring: the
        // user's own permissions on it do not include it.
        status = call.log.fail(call.phase.error, LOG_ERR,
                               "cannot revoke session keyring %d: %s (only a thread that "
                               "possesses it can: was the session opened on another thread?)",
                               keyring, errno_text(EACCES));
    } else if (revoked < 0) {
        status = call.log.fail_errno(call.phase.error, revoked, "cannot revoke session keyring %d",
                                     keyring);
    } else {
        call.log.debug("%s: revoked session keyring %d", call.phase.name, keyring);
    }
    if (!as_user.restore()) {
        status = call.phase.error;
    }
    return status;
}

// Revokes what this handle made, if revoke was asked for; then the handle
// starts afresh.
int revoke_made(Call& call, HandleState& state) {
    const KeySerial made = state.made;
    const bool wanted = state.revoke_requested;
    state.initialised = false;
    state.made = 0;
    if (made == 0) {
        call.log.debug("%s: this PAM handle made no keyring, so there is none to revoke",
                       call.phase.name);
        return PAM_SUCCESS;
    }
    if (!wanted) {
        call.log.debug("%s: session keyring %d stays: revoke was not asked for", call.phase.name,
                       made);
        return PAM_SUCCESS;
    }
    return revoke(call, made, state.owner);
}

}  // namespace

int initialise(const System& system, pam_handle_t* pamh, Phase phase, int argc,
               const char** argv) noexcept {
    Call call = begin_call(system, pamh, phase, argc, argv);
    HandleState* state = nullptr;
    if (int status = find_state(call, &state); status != PAM_SUCCESS) {
        return status;
    }
    // The target is looked up on every set-up, so that a PAM_USER changed
    // since the last one is noticed.
    Target target{};
    if (int status = find_target(call, &target); status != PAM_SUCCESS) {
        return status;
    }
    const unsigned counted = phase.opens_session ? 1 : 0;
    unsigned opens = counted;
    bool revoke_requested = call.options.revoke;
    int earlier = PAM_SUCCESS;
    if (state != nullptr && state->initialised) {
        if (state->owner.uid == target.ids.uid && state->owner.gid == target.ids.gid) {
            state->opens += counted;
            state->revoke_requested |= call.options.revoke;
            call.log.debug("%s: this PAM handle has set up its session keyring already (made: %d)",
                           phase.name, state->made);
            return PAM_SUCCESS;
        }
        // The keyring set up for the first user must not serve the second:
        // what the handle made for it goes as at a last close.
        call.log.line(LOG_NOTICE,
                      "the user changed from uid %u to \"%s\" (uid %u) on this PAM handle: "
                      "setting the session keyring up again",
                      state->owner.uid, ShownName(target.name).c_str(), target.ids.uid);
        opens += state->opens;
        revoke_requested |= state->revoke_requested;
        state->revoke_requested = revoke_requested;
        earlier = revoke_made(call, *state);
    }
    if (state == nullptr) {
        if (int status = create_state(call, &state); status != PAM_SUCCESS) {
            return status;
        }
    }
    *state = HandleState{.initialised = false,
                         .opens = 0,
                         .made = 0,
                         .owner = target.ids,
                         .revoke_requested = revoke_requested};
    const int status = set_up(call, target, *state);
    // A keyring made before a later step failed still belongs to this handle,
    // so that closing the session revokes it.
    if (state->initialised) {
        state->opens = opens;
    }
    return status != PAM_SUCCESS ? status : earlier;
}

int finish(const System& system, pam_handle_t* pamh, Phase phase, int argc,
           const char** argv) noexcept {
    Call call = begin_call(system, pamh, phase, argc, argv);
    HandleState* state = nullptr;
    if (int status = find_state(call, &state); status != PAM_SUCCESS) {
        return status;
    }
    if (state == nullptr || state->opens == 0) {
        call.log.debug("%s: no session is open on this PAM handle", phase.name);
        return PAM_SUCCESS;
    }
    state->revoke_requested |= call.options.revoke;
    if (--state->opens > 0) {
        call.log.debug("%s: %u more close(s) before the last", phase.name, state->opens);
        return PAM_SUCCESS;
    }
    return revoke_made(call, *state);
}

namespace {

int delete_credentials(Call& call) noexcept {
    if (!call.options.revoke) {
        call.log.debug("setcred: deleting credentials revokes only with revoke");
        return PAM_IGNORE;
    }
    HandleState* state = nullptr;
    if (int status = find_state(call, &state); status != PAM_SUCCESS) {
        return status;
    }
    if (state == nullptr || !state->initialised) {
        call.log.debug("setcred: nothing set up on this PAM handle to revoke");
        return PAM_SUCCESS;
    }
    if (state->opens > 0) {
        call.log.debug(
            "setcred: %u session(s) still open on this PAM handle: the last close "
            "revokes",
            state->opens);
        return PAM_SUCCESS;
    }
    state->revoke_requested = true;
    return revoke_made(call, *state);
}

}  // namespace

int set_credentials(const System& system, pam_handle_t* pamh, int flags, int argc,
                    const char** argv) noexcept {
    if ((static_cast<unsigned>(flags) & PAM_ESTABLISH_CRED) != 0) {
        return initialise(system, pamh, setcred_phase, argc, argv);
    }
    Call call = begin_call(system, pamh, setcred_phase, argc, argv);
    if ((static_cast<unsigned>(flags) & PAM_DELETE_CRED) != 0) {
        return delete_credentials(call);
    }
    call.log.debug("setcred: flags %#x neither establish nor delete credentials", flags);
    return PAM_IGNORE;
}

int authenticate(const System& system, pam_handle_t* pamh, int argc, const char** argv) noexcept {
    const Call call = begin_call(system, pamh, authenticate_phase, argc, argv);
    call.log.debug("%s: nothing to check here; setcred sets the session keyring up",
                   call.phase.name);
    return PAM_IGNORE;
}

}  // namespace pam_keyinit
