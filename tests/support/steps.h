// SPDX-License-Identifier: BSD-3-Clause
// Every call the module makes while a session opens and closes, as a step
// of its flow: the one list the fake kernel fails calls by, the fault tables
// name their cases by, and the fault-injection programs arm their failures
// by. A seam call that serves two steps (setresuid to switch and to
// restore, keyctl(KEYCTL_GET_KEYRING_ID) for @s and for @us) is told apart
// by its arguments, as a seccomp filter on the real kernel tells it apart.
#pragma once

namespace pam_keyinit::test {

// In the order of the open flow (doc/design.md, "Calls"), then the revoke
// of the close flow.
enum class Step {
    get_data,
    get_user,
    lookup_user,
    getpwnam,
    allocate,
    set_data,
    read_ids,
    switch_gids,
    switch_uids,
    session_lookup,
    user_session_lookup,
    describe,
    join,
    link,
    link_persistent,
    restore_uids,
    restore_gids,
    restore_fsids,
    revoke,
};

inline constexpr Step all_steps[] = {
    Step::get_data,
    Step::get_user,
    Step::lookup_user,
    Step::getpwnam,
    Step::allocate,
    Step::set_data,
    Step::read_ids,
    Step::switch_gids,
    Step::switch_uids,
    Step::session_lookup,
    Step::user_session_lookup,
    Step::describe,
    Step::join,
    Step::link,
    Step::link_persistent,
    Step::restore_uids,
    Step::restore_gids,
    Step::restore_fsids,
    Step::revoke,
};

// "session_lookup", "switch_uids", ...: the name in case names and messages.
const char* step_name(Step step);

}  // namespace pam_keyinit::test
