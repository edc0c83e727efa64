// SPDX-License-Identifier: BSD-3-Clause
#include "steps.h"

namespace pam_keyinit::test {

const char* step_name(Step step) {
    switch (step) {
        case Step::get_data: return "get_data";
        case Step::get_user: return "get_user";
        case Step::lookup_user: return "lookup_user";
        case Step::getpwnam: return "getpwnam";
        case Step::allocate: return "allocate";
        case Step::set_data: return "set_data";
        case Step::read_ids: return "read_ids";
        case Step::switch_gids: return "switch_gids";
        case Step::switch_uids: return "switch_uids";
        case Step::session_lookup: return "session_lookup";
        case Step::user_session_lookup: return "user_session_lookup";
        case Step::describe: return "describe";
        case Step::join: return "join";
        case Step::link: return "link";
        case Step::link_persistent: return "link_persistent";
        case Step::restore_uids: return "restore_uids";
        case Step::restore_gids: return "restore_gids";
        case Step::restore_fsids: return "restore_fsids";
        case Step::revoke: return "revoke";
    }
    return "?";
}

}  // namespace pam_keyinit::test
