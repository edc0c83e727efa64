// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/options.h"

#include <array>

namespace pam_keyinit {
namespace {

struct OptionName {
    std::string_view name;
    bool Options::*flag;
};

// A table: one entry a line, which tests/suites/30-man.sh reads.
// clang-format off
constexpr std::array option_names{
    OptionName{"debug", &Options::debug},
    OptionName{"force", &Options::force},
    OptionName{"revoke", &Options::revoke},
    OptionName{"inherit", &Options::inherit},
    OptionName{"persistent", &Options::persistent},
};
// clang-format on

}  // namespace

Options parse_options(int argc, const char* const* argv, UnknownOptionSink on_unknown,
                      void* context) noexcept {
    Options options;
    if (argv == nullptr) {
        return options;
    }
    for (int i = 0; i < argc; ++i) {
        // A null entry is reported as an empty argument: it names nothing.
        const std::string_view argument = argv[i] != nullptr ? argv[i] : "";
        bool known = false;
        for (const OptionName& option : option_names) {
            if (argument == option.name) {
                options.*option.flag = true;
                known = true;
                break;
            }
        }
        if (!known && on_unknown != nullptr) {
            on_unknown(context, argument);
        }
    }
    return options;
}

}  // namespace pam_keyinit
