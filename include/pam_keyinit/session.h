// SPDX-License-Identifier: BSD-3-Clause
// What the four entry points do, with the kernel and libpam behind a System.
#pragma once

#include "pam_keyinit/system.h"

namespace pam_keyinit {

// The PAM call being served, and the error code that ends it when it
// fails (doc/design.md, "Failures").
struct Phase {
    const char* name;
    int error;
    bool opens_session;  // counted, so that the last close revokes
};

inline constexpr Phase open_phase{"open_session", PAM_SESSION_ERR, true};
inline constexpr Phase setcred_phase{"setcred", PAM_CRED_ERR, false};
inline constexpr Phase close_phase{"close_session", PAM_SESSION_ERR, false};
inline constexpr Phase authenticate_phase{"authenticate", PAM_AUTH_ERR, false};

// Gives the calling thread a session keyring of the user's own (doc/design.md,
// "Opening").
int initialise(const System& system, pam_handle_t* pamh, Phase phase, int argc,
               const char** argv) noexcept;

// One close_session: at the last one, revokes the keyring this handle made
// when revoke was asked for (doc/design.md, "Closing").
int finish(const System& system, pam_handle_t* pamh, Phase phase, int argc,
           const char** argv) noexcept;

// pam_sm_setcred: PAM_ESTABLISH_CRED initialises (without counting as an
// open, as in Linux-PAM, so that the last close_session still revokes);
// PAM_DELETE_CRED with revoke revokes unless a session is still open.
int set_credentials(const System& system, pam_handle_t* pamh, int flags, int argc,
                    const char** argv) noexcept;

// pam_sm_authenticate: PAM_IGNORE, so that auth lines can reach setcred.
int authenticate(const System& system, pam_handle_t* pamh, int argc, const char** argv) noexcept;

// The name under which the per-handle state is kept with pam_set_data().
inline constexpr const char* handle_state_name = "pam_keyinit.session";

// What a handle remembers between calls. Plain data in calloc()ed memory,
// released by the cleanup function given to pam_set_data().
struct HandleState {
    bool initialised;       // the keyring is set up (made, kept, or none to be had)
    unsigned opens;         // open_session calls not yet matched by a close
    KeySerial made;         // the keyring this handle made, or 0
    UserIds owner;          // whom it was made for: revoked as that user
    bool revoke_requested;  // some call on this handle named revoke
};

}  // namespace pam_keyinit
