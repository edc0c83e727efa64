// SPDX-License-Identifier: BSD-3-Clause
// Module arguments, parsed afresh from argv on every call.
#pragma once

#include <string_view>

namespace pam_keyinit {

struct Options {
    bool debug = false;
    bool force = false;
    bool revoke = false;
    bool inherit = false;
    bool persistent = false;

    friend bool operator==(const Options&, const Options&) = default;
};

// Receives every argument that names no option. A plain function pointer
// and a context keep std::function (and with it libstdc++) out of the module.
using UnknownOptionSink = void (*)(void* context, std::string_view argument);

// Unknown, malformed and null arguments go to on_unknown (which may be null)
// and are otherwise ignored. A negative argc is treated as no arguments.
Options parse_options(int argc, const char* const* argv, UnknownOptionSink on_unknown,
                      void* context) noexcept;

}  // namespace pam_keyinit
