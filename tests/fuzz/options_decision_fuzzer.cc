// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer harness for what the module makes of untrusted text: its
// arguments (from a service file an administrator may have mistyped), the
// decision they steer, and the kernel's key descriptions. An input is
//   "<session> <user-session> <owner> <target>\n<argument>\n<argument>..."
// where each number may be "-" (not seen); the whole input is also parsed as
// a key description. Any broken invariant aborts, which libFuzzer reports.
#include <sys/types.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pam_keyinit/decision.h"
#include "pam_keyinit/key_description.h"
#include "pam_keyinit/options.h"

namespace {

using pam_keyinit::Decision;
using pam_keyinit::KeySerial;
using pam_keyinit::Observation;
using pam_keyinit::Options;
using pam_keyinit::Reason;
using pam_keyinit::Verdict;

void require(bool holds, const char* what) {
    if (!holds) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

template <typename Number>
std::optional<Number> number(std::string_view& header) {
    while (!header.empty() && header.front() == ' ') {
        header.remove_prefix(1);
    }
    const std::size_t end = std::min(header.find(' '), header.size());
    const std::string_view word = header.substr(0, end);
    header.remove_prefix(end);
    Number value{};
    const auto [stop, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (word.empty() || error != std::errc{} || stop != word.data() + word.size()) {
        return std::nullopt;
    }
    return value;
}

struct Unknown {
    std::vector<std::string_view> arguments;
};

void collect_unknown(void* context, std::string_view argument) {
    static_cast<Unknown*>(context)->arguments.push_back(argument);
}

constexpr std::string_view option_names[] = {"debug", "force", "revoke", "inherit", "persistent"};

bool flag_of(const Options& options, std::string_view name) {
    if (name == "debug")
        return options.debug;
    if (name == "force")
        return options.force;
    if (name == "revoke")
        return options.revoke;
    if (name == "inherit")
        return options.inherit;
    return options.persistent;
}

Options check_options(const std::vector<std::string>& arguments) {
    std::vector<const char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(argument.c_str());
    }
    Unknown unknown;
    const Options options = pam_keyinit::parse_options(static_cast<int>(argv.size()), argv.data(),
                                                       collect_unknown, &unknown);
    // Every argument is either one of the names, exactly, or reported.
    std::size_t known = 0;
    for (const std::string& argument : arguments) {
        bool is_name = false;
        for (std::string_view name : option_names) {
            is_name |= argument == name;
        }
        known += is_name ? 1 : 0;
    }
    require(known + unknown.arguments.size() == arguments.size(),
            "argument neither known nor reported");
    for (std::string_view reported : unknown.arguments) {
        for (std::string_view name : option_names) {
            require(reported != name, "a known option reported as unknown");
        }
    }
    // A flag is set exactly when its name was given.
    for (std::string_view name : option_names) {
        bool given = false;
        for (const std::string& argument : arguments) {
            given |= argument == name;
        }
        require(flag_of(options, name) == given, "flag set without its name, or not set with it");
    }
    // The same arguments parse the same way without a sink.
    require(pam_keyinit::parse_options(static_cast<int>(argv.size()), argv.data(), nullptr,
                                       nullptr) == options,
            "parsing depends on the sink");
    return options;
}

void check_decision(const Observation& seen, uid_t target, const Options& options) {
    const Decision decision =
        pam_keyinit::decide(seen, target, {.force = options.force, .inherit = options.inherit});
    const char* why = pam_keyinit::explain(decision.reason);
    require(why != nullptr && why[0] != '\0', "a reason without words");
    if (options.force) {
        require(decision == Decision{Verdict::replace, Reason::forced}, "force does not replace");
        return;
    }
    if (!seen.session) {
        require(decision.verdict == Verdict::replace, "a dead session keyring is kept");
        return;
    }
    if (!seen.user_session) {
        require(decision.verdict == Verdict::replace,
                "a keyring kept although the user-session keyring cannot be compared");
        return;
    }
    if (*seen.session == *seen.user_session) {
        require(decision.verdict == Verdict::replace, "the user-session keyring is kept");
        return;
    }
    // Root is no exception: only the target's own keyring, or any with inherit.
    const bool own = seen.session_owner && *seen.session_owner == target;
    if (decision.verdict == Verdict::keep) {
        require(own || options.inherit, "a foreign keyring kept for a user");
    } else {
        require(!own && !options.inherit, "a keyring replaced that rule 4 keeps");
    }
}

void check_description(std::string_view text) {
    const auto parsed = pam_keyinit::parse_key_description(text);
    if (!parsed) {
        return;
    }
    const auto inside = [&](std::string_view part) {
        return part.empty() || (part.data() >= text.data() &&
                                part.data() + part.size() <= text.data() + text.size());
    };
    require(inside(parsed->type) && inside(parsed->name), "a view outside the text");
    require(!parsed->type.empty(), "an empty key type accepted");
    require(parsed->type.find(';') == std::string_view::npos, "a ';' in the key type");
    // What follows the fourth ';' is the name, whatever it holds.
    std::size_t at = 0;
    for (int field = 0; field < 4; ++field) {
        at = text.find(';', at) + 1;
    }
    std::string_view name = text.substr(at);
    while (!name.empty() && name.back() == '\0') {
        name.remove_suffix(1);
    }
    require(parsed->name == name, "the name is not all that follows the fourth ';'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_description(input);

    const std::size_t header_end = std::min(input.find('\n'), input.size());
    std::string_view header = input.substr(0, header_end);
    Observation seen;
    seen.session = number<KeySerial>(header);
    seen.user_session = number<KeySerial>(header);
    seen.session_owner = number<uid_t>(header);
    const uid_t target = number<uid_t>(header).value_or(1000);

    std::vector<std::string> arguments;
    if (header_end < input.size()) {
        std::string_view rest = input.substr(header_end + 1);
        for (;;) {
            const std::size_t end = rest.find('\n');
            // argv holds C strings: an argument ends at its first NUL.
            const std::string_view argument = rest.substr(0, end);
            arguments.emplace_back(argument.substr(0, argument.find('\0')));
            if (end == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(end + 1);
        }
    }
    const Options options = check_options(arguments);
    check_decision(seen, target, options);
    return 0;
}
