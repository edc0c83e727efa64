// SPDX-License-Identifier: BSD-3-Clause
// Sessions per second in one process: pam_start_confdir(), open_session,
// close_session, pam_end(), in a loop, through a one-line session stack, for
// every module and user named on the command line. Each module gets the same
// stack line and the same arguments, so the loops differ only in the module.
//
//   session-bench --module=NAME=PATH... --user=NAME... [--arguments="force revoke"]
//                 [Google Benchmark flags]
//
// Run it as root: switching to a normal user needs it. A normal user may own
// only kernel.keys.maxkeys keys (200 on Debian), and a replaced session
// keyring is freed by the kernel's garbage collector some time after the last
// reference to it goes. The loop therefore checks the user's key count now and
// then with the timer stopped, and waits for the collector when the user is
// half-way to the quota; the number of such waits is reported.
//
// Times are the process's CPU time (user and system), which a busy neighbour
// on the machine disturbs far less than wall time; "faults" is the number of
// minor page faults per session.
#include <benchmark/benchmark.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Module {
    std::string name;
    std::string path;
};

struct Settings {
    std::vector<Module> modules;
    std::vector<std::string> users;
    std::string arguments = "force revoke";
};

struct KeyQuota {
    unsigned keys = 0;
    unsigned max_keys = 0;
};

// The quota line of /proc/key-users for uid: "  uid: usage n/n keys/max bytes/max".
std::optional<KeyQuota> read_key_quota(uid_t uid) {
    std::FILE* file = std::fopen("/proc/key-users", "re");
    if (file == nullptr) {
        return std::nullopt;
    }
    std::optional<KeyQuota> found;
    unsigned line_uid = 0;
    KeyQuota quota;
    char line[256];
    while (std::fgets(line, sizeof line, file) != nullptr) {
        if (std::sscanf(line, " %u: %*u %*u/%*u %u/%u", &line_uid, &quota.keys, &quota.max_keys) ==
                3 &&
            line_uid == uid) {
            found = quota;
            break;
        }
    }
    std::fclose(file);
    return found;
}

// Blocks until the user's key count is at most a quarter of the quota.
// False when the collector does not get there within ten seconds.
bool wait_for_key_collector(uid_t uid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto quota = read_key_quota(uid);
        if (!quota || quota->keys * 4 <= quota->max_keys) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

// Minor page faults of the calling thread so far: each pam_start maps the
// module (and anything it needs) afresh, and pam_end unmaps it again.
long minor_faults() {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_minflt;
}

int refuse_conversation(int, const pam_message**, pam_response**, void*) {
    return PAM_CONV_ERR;
}

class ServiceFolder {
public:
    ServiceFolder() {
        const char* tmp = std::getenv("TMPDIR");
        path_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                "/pam-keyinit-bench.XXXXXX";
        if (mkdtemp(path_.data()) == nullptr) {
            std::perror("mkdtemp");
            std::exit(1);
        }
    }
    ~ServiceFolder() {
        for (const std::string& file : files_) {
            unlink(file.c_str());
        }
        rmdir(path_.c_str());
    }
    ServiceFolder(const ServiceFolder&) = delete;
    ServiceFolder& operator=(const ServiceFolder&) = delete;

    // Writes "session required PATH ARGUMENTS" as service NAME.
    void add(const std::string& name, const std::string& line) {
        const std::string file = path_ + "/" + name;
        std::FILE* out = std::fopen(file.c_str(), "we");
        if (out == nullptr || std::fprintf(out, "%s\n", line.c_str()) < 0 ||
            std::fclose(out) != 0) {
            std::fprintf(stderr, "cannot write %s: %s\n", file.c_str(), std::strerror(errno));
            std::exit(1);
        }
        files_.push_back(file);
    }

    const char* path() const { return path_.c_str(); }

private:
    std::string path_;
    std::vector<std::string> files_;
};

void run_sessions(benchmark::State& state, const ServiceFolder& folder, const std::string& service,
                  const std::string& user, uid_t uid) {
    const pam_conv conversation{refuse_conversation, nullptr};
    const auto quota = read_key_quota(uid);
    // Often enough that the user cannot run out of keys between two checks.
    const long check_every =
        quota && quota->max_keys >= 16 ? std::min(32U, quota->max_keys / 8) : 1;
    long until_check = check_every;
    long quota_waits = 0;
    const long faults_before = minor_faults();
    for (auto _ : state) {
        pam_handle_t* pamh = nullptr;
        int status =
            pam_start_confdir(service.c_str(), user.c_str(), &conversation, folder.path(), &pamh);
        const char* failed_step = "pam_start_confdir";
        if (status == PAM_SUCCESS) {
            status = pam_open_session(pamh, 0);
            failed_step = "pam_open_session";
        }
        if (status == PAM_SUCCESS) {
            status = pam_close_session(pamh, 0);
            failed_step = "pam_close_session";
        }
        if (status != PAM_SUCCESS) {
            const std::string message =
                std::string(failed_step) + ": " + pam_strerror(pamh, status);
            pam_end(pamh, status);
            state.SkipWithError(message.c_str());
            break;
        }
        pam_end(pamh, PAM_SUCCESS);

        if (--until_check == 0) {
            until_check = check_every;
            state.PauseTiming();
            const auto now = read_key_quota(uid);
            if (now && now->keys * 2 > now->max_keys) {
                ++quota_waits;
                if (!wait_for_key_collector(uid)) {
                    state.SkipWithError("the kernel did not free the user's keys within 10 s");
                }
            }
            state.ResumeTiming();
        }
    }
    // A rate over CPU time: on a shared machine wall time mostly measures
    // the neighbours.
    state.counters["sessions"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["faults"] = benchmark::Counter(
        static_cast<double>(minor_faults() - faults_before), benchmark::Counter::kAvgIterations);
    state.counters["quota_waits"] = static_cast<double>(quota_waits);
}

// Takes this program's own flags out of argv; the rest is Google Benchmark's.
bool parse_settings(int* argc, char** argv, Settings* settings) {
    int kept = 1;
    for (int i = 1; i < *argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument.starts_with("--module=")) {
            const std::string_view value = argument.substr(std::strlen("--module="));
            const std::size_t equals = value.find('=');
            if (equals == std::string_view::npos || equals == 0 || equals + 1 == value.size()) {
                std::fprintf(stderr, "--module wants NAME=PATH, not %s\n", argv[i]);
                return false;
            }
            settings->modules.push_back(
                {std::string(value.substr(0, equals)), std::string(value.substr(equals + 1))});
        } else if (argument.starts_with("--user=")) {
            settings->users.emplace_back(argument.substr(std::strlen("--user=")));
        } else if (argument.starts_with("--arguments=")) {
            settings->arguments = argument.substr(std::strlen("--arguments="));
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    if (settings->modules.empty() || settings->users.empty()) {
        std::fprintf(stderr,
                     "usage: %s --module=NAME=PATH... --user=NAME... "
                     "[--arguments=\"force revoke\"] [benchmark flags]\n",
                     argv[0]);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    if (!parse_settings(&argc, argv, &settings)) {
        return 2;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 2;
    }

    ServiceFolder folder;
    for (const Module& module : settings.modules) {
        folder.add("bench-" + module.name,
                   "session required " + module.path + " " + settings.arguments);
    }
    for (const std::string& user : settings.users) {
        const passwd* entry = getpwnam(user.c_str());
        if (entry == nullptr) {
            std::fprintf(stderr, "no such user: %s\n", user.c_str());
            return 2;
        }
        const uid_t uid = entry->pw_uid;
        for (const Module& module : settings.modules) {
            const std::string service = "bench-" + module.name;
            benchmark::RegisterBenchmark(("session/" + module.name + "/" + user).c_str(),
                                         [&folder, service, user, uid](benchmark::State& state) {
                                             run_sessions(state, folder, service, user, uid);
                                         })
                ->Unit(benchmark::kMicrosecond);
        }
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
