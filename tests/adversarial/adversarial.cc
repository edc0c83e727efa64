// SPDX-License-Identifier: BSD-3-Clause
// The adversarial suite (tests/suites/44-adversarial.sh, driven by
// tests/adversarial/run.sh): what a hostile caller, a hostile target user
// or a careless host program can do to a session that a PAM application
// opens, played on the real kernel with real libpam, against this module
// and against Linux-PAM's pam_keyinit through the same service lines
// ("session optional MODULE ARGS" then "session required pam_permit.so",
// as distributions ship them). The module's own result, which an optional
// line hides, is read through the same lines with "required".
//
// Every attack runs in a forked child, once per module: session keyrings
// and credentials belong to the thread. Each case prints one line with what
// each module left behind; only ours is held to the invariants and to the
// lines and results of doc/design.md ("Threat model", "Failures"); the
// stock module's result is printed and never counted. Verdict lines: "ok: CASE", "FAIL: CASE: WHY",
// "skipped: CASE: WHY".
#include <fcntl.h>
#include <keyutils.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef PAM_KEYINIT_MODULE_PATH
#define PAM_KEYINIT_MODULE_PATH ""
#endif
#ifndef PAM_KEYINIT_STOCK_MODULE
#define PAM_KEYINIT_STOCK_MODULE ""
#endif

namespace {

// The calls that take 32-bit IDs, where an architecture has both kinds.
#ifdef SYS_setresuid32
constexpr long setresuid_call = SYS_setresuid32;
constexpr long setresgid_call = SYS_setresgid32;
constexpr long setfsuid_call = SYS_setfsuid32;
constexpr long setfsgid_call = SYS_setfsgid32;
#else
constexpr long setresuid_call = SYS_setresuid;
constexpr long setresgid_call = SYS_setresgid;
constexpr long setfsuid_call = SYS_setfsuid;
constexpr long setfsgid_call = SYS_setfsgid;
#endif

constexpr uid_t impossible_id = static_cast<uid_t>(-1);

struct User {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct Config {
    std::string ours = PAM_KEYINIT_MODULE_PATH;
    std::string stock = PAM_KEYINIT_STOCK_MODULE;
    std::string workdir;
    std::string confdir;
    User caller;  // the unprivileged user who runs a set-uid PAM application
    User alice;   // a target
    User bob;     // a second target
    User quota;   // a target that fills its key quota
    User fresh;   // a target whose uid has no keys at all yet, nor user keyrings
    std::vector<std::string> only;
};
Config config;

enum class Side { ours, stock };
const char* side_name(Side side) {
    return side == Side::ours ? "ours" : "stock";
}

// --- the thread's credentials ----------------------------------------------

struct Ids {
    uid_t ruid, euid, suid, fsuid;
    gid_t rgid, egid, sgid, fsgid;
    bool operator==(const Ids&) const = default;
};

Ids read_ids() {
    Ids ids{};
    getresuid(&ids.ruid, &ids.euid, &ids.suid);
    getresgid(&ids.rgid, &ids.egid, &ids.sgid);
    ids.fsuid = static_cast<uid_t>(syscall(setfsuid_call, impossible_id));
    ids.fsgid = static_cast<gid_t>(syscall(setfsgid_call, impossible_id));
    return ids;
}

std::string text(const Ids& ids) {
    return "uid " + std::to_string(ids.ruid) + "/" + std::to_string(ids.euid) + "/" +
           std::to_string(ids.suid) + " fsuid " + std::to_string(ids.fsuid) + ", gid " +
           std::to_string(ids.rgid) + "/" + std::to_string(ids.egid) + "/" +
           std::to_string(ids.sgid) + " fsgid " + std::to_string(ids.fsgid);
}

// Raw calls: the calling thread only.
bool set_ids(uid_t ruid, uid_t euid, uid_t suid, gid_t rgid, gid_t egid, gid_t sgid) {
    return syscall(setresgid_call, rgid, egid, sgid) == 0 &&
           syscall(setresuid_call, ruid, euid, suid) == 0;
}

// As a set-uid root program run by the caller: real IDs the caller's.
bool become_setuid_program_of(const User& caller) {
    return set_ids(caller.uid, 0, 0, caller.gid, 0, 0);
}

// --- keyrings ----------------------------------------------------------------

struct KeyInfo {
    bool ok = false;
    int error = 0;
    std::string type;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

KeyInfo describe(key_serial_t id) {
    KeyInfo info;
    char* buffer = nullptr;
    if (keyctl_describe_alloc(id, &buffer) < 0) {
        info.error = errno;
        return info;
    }
    // "type;uid;gid;perm;name", the IDs printed as signed numbers.
    std::string description(buffer);
    free(buffer);
    std::vector<std::string> fields;
    size_t start = 0;
    for (int i = 0; i < 4; ++i) {
        const size_t semicolon = description.find(';', start);
        if (semicolon == std::string::npos) {
            info.error = EINVAL;
            return info;
        }
        fields.push_back(description.substr(start, semicolon - start));
        start = semicolon + 1;
    }
    info.ok = true;
    info.type = fields[0];
    info.uid = static_cast<uid_t>(std::strtoll(fields[1].c_str(), nullptr, 10));
    info.gid = static_cast<gid_t>(std::strtoll(fields[2].c_str(), nullptr, 10));
    info.name = description.substr(start);
    return info;
}

int key_error(key_serial_t id) {
    const KeyInfo info = describe(id);
    return info.ok ? 0 : info.error;
}

bool links(key_serial_t ring, const std::string& name) {
    void* buffer = nullptr;
    const long length = keyctl_read_alloc(ring, &buffer);
    if (length < 0) {
        return false;
    }
    bool found = false;
    const auto* ids = static_cast<const key_serial_t*>(buffer);
    for (size_t i = 0; i < static_cast<size_t>(length) / sizeof(key_serial_t); ++i) {
        if (describe(ids[i]).name == name) {
            found = true;
        }
    }
    free(buffer);
    return found;
}

key_serial_t session_keyring() {
    return keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
}

std::string owner_text(uid_t uid) {
    if (uid == 0) {
        return "uid 0";
    }
    for (const User* user :
         {&config.caller, &config.alice, &config.bob, &config.quota, &config.fresh}) {
        if (user->uid == uid) {
            return user->name + " (uid " + std::to_string(uid) + ")";
        }
    }
    return "uid " + std::to_string(uid);
}

// "keyring 123 ("_ses", owned by alice (uid 1001))"
std::string keyring_text(key_serial_t id) {
    const KeyInfo info = describe(id);
    if (!info.ok) {
        return "keyring " + std::to_string(id) + " (" + std::strerror(info.error) + ")";
    }
    return "keyring " + std::to_string(id) + " (\"" + info.name + "\", owned by " +
           owner_text(info.uid) + ")";
}

// A user's share of the key quota in /proc/key-users: "qnkeys/maxkeys".
std::string key_quota(uid_t uid, unsigned* keys = nullptr, unsigned* max_keys = nullptr) {
    std::ifstream users("/proc/key-users");
    std::string line;
    while (std::getline(users, line)) {
        std::istringstream fields(line);
        std::string owner, usage, counts, quota;
        fields >> owner >> usage >> counts >> quota;
        if (owner == std::to_string(uid) + ":") {
            unsigned used = 0, limit = 0;
            std::sscanf(quota.c_str(), "%u/%u", &used, &limit);
            if (keys != nullptr) {
                *keys = used;
            }
            if (max_keys != nullptr) {
                *max_keys = limit;
            }
            return quota;
        }
    }
    return "none";
}

// --- syslog, caught in the child ------------------------------------------------

struct LogLine {
    int priority = -1;
    std::string text;  // after "tag[pid]: "
};

// A private mount and network namespace whose /dev/log is a socket read
// here (the approach of tests/support/syslog_capture.h, in a few lines).
class Syslog {
public:
    bool start(std::string* error) {
        auto failed = [&](const char* step) {
            *error = std::string(step) + ": " + std::strerror(errno);
            return false;
        };
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
            return failed("unshare");
        }
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return failed("making / private");
        }
        if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0) {
            return failed("a tmpfs on /dev");
        }
        const struct {
            const char* path;
            unsigned major, minor;
        } nodes[] = {{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/urandom", 1, 9}};
        for (const auto& node : nodes) {
            if (mknod(node.path, S_IFCHR | 0666, makedev(node.major, node.minor)) != 0) {
                return failed(node.path);
            }
            chmod(node.path, 0666);
        }
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) {
            return failed("socket");
        }
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, "/dev/log");
        if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            return failed("binding /dev/log");
        }
        chmod("/dev/log", 0666);
        int size = 8 << 20;
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        closelog();
        return true;
    }

    // The lines pam_keyinit logged since the last call (both modules log as
    // "pam_keyinit(SERVICE:TYPE): ", and each child loads only one).
    std::vector<LogLine> take() {
        std::vector<LogLine> lines;
        char buffer[16384];
        for (;;) {
            const ssize_t got = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
            if (got < 0) {
                break;
            }
            std::string raw(buffer, static_cast<size_t>(got));
            while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\0')) {
                raw.pop_back();
            }
            LogLine line;
            line.text = raw;
            if (raw.size() > 2 && raw[0] == '<') {
                // "<PRI>Mmm dd hh:mm:ss TAG: MESSAGE" (TAG[PID] with LOG_PID)
                const size_t close = raw.find('>');
                const size_t colon = raw.find(": ", close);
                line.priority = LOG_PRI(std::atoi(raw.c_str() + 1));
                if (colon != std::string::npos) {
                    line.text = raw.substr(colon + 2);
                }
            }
            if (line.text.rfind("pam_keyinit(", 0) == 0) {
                lines.push_back(line);
            }
        }
        return lines;
    }

private:
    int fd_ = -1;
};

// The message after "pam_keyinit(SERVICE:TYPE): ".
std::string message(const LogLine& line) {
    const size_t colon = line.text.find("): ");
    return colon == std::string::npos ? line.text : line.text.substr(colon + 3);
}

// Bytes shown as they are, control bytes and all others as \xNN: for our
// own output, whatever the module logged.
std::string shown(const std::string& bytes, size_t limit = 200) {
    std::string out;
    for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        if (byte < 0x20 || byte >= 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        } else {
            out += static_cast<char>(byte);
        }
    }
    if (bytes.size() > limit) {
        out += "...";
    }
    return out;
}

// The lines at LOG_INFO or above (a failure is one such line).
std::vector<LogLine> loud(const std::vector<LogLine>& lines) {
    std::vector<LogLine> found;
    for (const LogLine& line : lines) {
        if (line.priority >= 0 && line.priority <= LOG_INFO) {
            found.push_back(line);
        }
    }
    return found;
}

std::string lines_text(const std::vector<LogLine>& lines) {
    if (lines.empty()) {
        return "no line";
    }
    std::string out;
    for (const LogLine& line : lines) {
        out += (out.empty() ? "" : "; ") + std::string("<") + std::to_string(line.priority) + "> " +
               shown(message(line));
    }
    return out;
}

// Exactly one line at LOG_INFO or above, at priority, saying expected.
bool one_line(const std::vector<LogLine>& lines, int priority, const std::string& expected) {
    const auto found = loud(lines);
    return found.size() == 1 && found[0].priority == priority && message(found[0]) == expected;
}

// What contract I4 forbids in a line: a byte below 0x20 or 0x7f, a C1
// control (U+0080..U+009F) or bytes that are not well-formed UTF-8.
std::string forbidden_byte(const std::string& line) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(line.data());
    const size_t size = line.size();
    for (size_t i = 0; i < size;) {
        const unsigned char byte = bytes[i];
        char what[64];
        if (byte < 0x20 || byte == 0x7f) {
            std::snprintf(what, sizeof what, "control byte 0x%02x at %zu", byte, i);
            return what;
        }
        if (byte < 0x80) {
            ++i;
            continue;
        }
        size_t length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 0;
        if (byte > 0xf4) {
            length = 0;
        }
        bool valid = length != 0 && i + length <= size;
        for (size_t k = 1; valid && k < length; ++k) {
            valid = (bytes[i + k] & 0xc0) == 0x80;
        }
        if (valid && length == 3 && byte == 0xe0) {
            valid = bytes[i + 1] >= 0xa0;  // overlong
        }
        if (valid && length == 3 && byte == 0xed) {
            valid = bytes[i + 1] < 0xa0;  // surrogate
        }
        if (valid && length == 4) {
            valid =
                !(byte == 0xf0 && bytes[i + 1] < 0x90) && !(byte == 0xf4 && bytes[i + 1] >= 0x90);
        }
        if (!valid) {
            std::snprintf(what, sizeof what, "malformed UTF-8 byte 0x%02x at %zu", byte, i);
            return what;
        }
        if (length == 2 && byte == 0xc2 && bytes[i + 1] < 0xa0) {
            std::snprintf(what, sizeof what, "C1 control U+%04X at %zu", bytes[i + 1], i);
            return what;
        }
        i += length;
    }
    return "";
}

// --- PAM ---------------------------------------------------------------------

int refuse_conversation(int, const pam_message**, pam_response** response, void*) {
    *response = nullptr;
    return PAM_CONV_ERR;
}
const pam_conv conversation = {refuse_conversation, nullptr};

enum class Control { optional, required };

// "ours-optional-force-revoke": the service file run.sh's harness wrote.
std::string service(Side side, Control control, const std::string& arguments) {
    std::string slug = arguments;
    for (char& c : slug) {
        c = c == ' ' ? '-' : c;
    }
    return std::string(side_name(side)) +
           (control == Control::optional ? "-optional-" : "-required-") + slug;
}

class Pam {
public:
    Pam(Side side, Control control, const std::string& arguments, const std::string& user) {
        status_ = pam_start_confdir(service(side, control, arguments).c_str(), user.c_str(),
                                    &conversation, config.confdir.c_str(), &handle_);
    }
    ~Pam() {
        if (handle_ != nullptr) {
            pam_end(handle_, PAM_SUCCESS);
        }
    }
    Pam(const Pam&) = delete;
    Pam& operator=(const Pam&) = delete;
    int started() const { return status_; }
    int open() { return pam_open_session(handle_, 0); }
    int close() { return pam_close_session(handle_, 0); }
    int setcred(int flags) { return pam_setcred(handle_, flags); }
    int set_user(const std::string& user) { return pam_set_item(handle_, PAM_USER, user.c_str()); }

private:
    pam_handle_t* handle_ = nullptr;
    int status_;
};

std::string result(int status) {
    switch (status) {
        case PAM_SUCCESS: return "PAM_SUCCESS";
        case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
        case PAM_CRED_ERR: return "PAM_CRED_ERR";
        case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
        case PAM_BUF_ERR: return "PAM_BUF_ERR";
        case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
        case PAM_IGNORE: return "PAM_IGNORE";
        default: return "PAM result " + std::to_string(status);
    }
}

// --- outcomes and the forked child -------------------------------------------

struct Outcome {
    enum Kind : char { safe = 's', unsafe = 'u', skip = 'k' } kind;
    std::string word;  // SAFE, or what went wrong: EXPOSED, CHANGED, WRONG, ...
    std::string detail;
};

Outcome safe(const std::string& detail) {
    return {Outcome::safe, "SAFE", detail};
}
Outcome unsafe(const std::string& word, const std::string& detail) {
    return {Outcome::unsafe, word, detail};
}
Outcome skipped(const std::string& reason) {
    return {Outcome::skip, "SKIPPED", reason};
}
Outcome setup_failed(const std::string& step) {
    return unsafe("ERROR", "the attack could not be set up: " + step + ": " + std::strerror(errno));
}

// Runs body in a forked child and returns what it found.
Outcome in_child(const std::function<Outcome()>& body) {
    int fds[2];
    if (pipe(fds) != 0) {
        return unsafe("ERROR", std::string("pipe: ") + std::strerror(errno));
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        return unsafe("ERROR", std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        alarm(60);
        const Outcome outcome = body();
        std::string record(1, outcome.kind);
        record += outcome.word + '\n' + outcome.detail;
        (void)!write(fds[1], record.data(), record.size());
        std::fflush(nullptr);
        _exit(0);
    }
    close(fds[1]);
    std::string record;
    char buffer[4096];
    ssize_t got;
    while ((got = read(fds[0], buffer, sizeof buffer)) > 0) {
        record.append(buffer, static_cast<size_t>(got));
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
        return unsafe("CRASHED", std::string("the child died of signal ") +
                                     std::to_string(WTERMSIG(status)) + " (" +
                                     strsignal(WTERMSIG(status)) + ")");
    }
    if (record.empty()) {
        return unsafe("ERROR", "the child ended without a result (exit status " +
                                   std::to_string(WEXITSTATUS(status)) + ")");
    }
    const size_t newline = record.find('\n');
    return {static_cast<Outcome::Kind>(record[0]), record.substr(1, newline - 1),
            newline == std::string::npos ? "" : record.substr(newline + 1)};
}

int passed = 0;
int failed = 0;
int skips = 0;

bool selected(const std::string& title) {
    if (config.only.empty()) {
        return true;
    }
    for (const std::string& prefix : config.only) {
        if (title.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

// One case: the attack against ours, then against stock; a line for both,
// and the verdict for ours.
void run_case(const std::string& title, const std::function<Outcome(Side)>& attack) {
    if (!selected(title)) {
        return;
    }
    const Outcome ours = in_child([&] { return attack(Side::ours); });
    const Outcome stock = in_child([&] { return attack(Side::stock); });
    auto part = [](const Outcome& outcome) {
        return outcome.word + (outcome.detail.empty() ? "" : " (" + outcome.detail + ")");
    };
    std::printf("%s: ours: %s | stock: %s\n", title.c_str(), part(ours).c_str(),
                part(stock).c_str());
    switch (ours.kind) {
        case Outcome::safe:
            std::printf("ok: %s\n", title.c_str());
            ++passed;
            break;
        case Outcome::skip:
            std::printf("skipped: %s: %s\n", title.c_str(), ours.detail.c_str());
            ++skips;
            break;
        case Outcome::unsafe:
            std::printf("FAIL: %s: ours: %s\n", title.c_str(), part(ours).c_str());
            ++failed;
            break;
    }
    std::fflush(stdout);
}

// Starts the child's syslog catcher, or says why not.
#define CATCH_SYSLOG(log)                                \
    Syslog log;                                          \
    do {                                                 \
        std::string error_;                              \
        if (!(log).start(&error_)) {                     \
            return unsafe("ERROR", "syslog: " + error_); \
        }                                                \
    } while (false)

// --- A1: the caller makes its session keyring un-lookup-able ------------------

enum class Spoil { permissions, invalidate };

Outcome spoiled_callers_keyring(Side side, Spoil spoil, const std::string& arguments) {
    CATCH_SYSLOG(log);
    const User& caller = config.caller;
    if (!become_setuid_program_of(caller)) {
        return setup_failed("set-uid IDs");
    }
    const key_serial_t callers = keyctl_join_session_keyring(nullptr);
    if (callers < 0) {
        return setup_failed("joining a keyring as the caller");
    }
    // keyctl chown @s CALLER; keyctl setperm @s 0x003f0000 / keyctl invalidate @s
    if (keyctl_chown(callers, caller.uid, static_cast<gid_t>(-1)) != 0) {
        return setup_failed("keyctl chown");
    }
    if (spoil == Spoil::permissions) {
        if (keyctl_setperm(callers, 0x003f0000) != 0) {
            return setup_failed("keyctl setperm");
        }
    } else if (keyctl_invalidate(callers) != 0) {
        return setup_failed("keyctl invalidate");
    }
    if (session_keyring() >= 0) {
        return unsafe("ERROR", "the spoiled keyring can still be looked up");
    }
    Pam pam(side, Control::optional, arguments, config.alice.name);
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    const int opened = pam.open();
    const std::string lines = lines_text(loud(log.take()));
    if (spoil == Spoil::permissions) {
        // Give the possessor its permissions back, as the caller (the
        // owner) may: then @s can be looked up whatever the thread is in.
        const Ids now = read_ids();
        syscall(setfsuid_call, caller.uid);
        const long restored = keyctl_setperm(callers, 0x3f3f0000);
        syscall(setfsuid_call, now.fsuid);
        if (restored != 0) {
            return setup_failed("giving the caller's keyring its permissions back");
        }
    }
    const key_serial_t now = session_keyring();
    const int error = errno;
    const std::string opened_text = "open " + result(opened) + ", logged: " + lines;
    if (now == callers) {
        return unsafe("EXPOSED",
                      "kept the caller's keyring " + std::to_string(callers) + "; " + opened_text);
    }
    if (now < 0) {
        return unsafe("EXPOSED", std::string("@s still cannot be looked up (") +
                                     std::strerror(error) + "): kept the caller's " +
                                     (spoil == Spoil::invalidate ? "invalidated " : "") +
                                     "keyring " + std::to_string(callers) + "; " + opened_text);
    }
    const KeyInfo info = describe(now);
    if (info.ok && info.uid == config.alice.uid) {
        return safe("new " + keyring_text(now));
    }
    return unsafe("EXPOSED", "in " + keyring_text(now) + ", not the target's; " + opened_text);
}

// --- A2: the target fills its key quota; a root service opens its session -----

const char* const root_secret = "adv-root-secret";

// fresh: the target has no user keyring (its quota was filled from a
// session keyring of its own), so none can be made for it now: creating
// "_uid.N" would be charged to the full quota.
Outcome quota_from_root_service(Side side, const User& target, bool fresh,
                                const std::string& arguments) {
    CATCH_SYSLOG(log);
    const key_serial_t service_keyring = keyctl_join_session_keyring(nullptr);
    if (service_keyring < 0) {
        return setup_failed("joining the root service's keyring");
    }
    if (add_key("user", root_secret, "root only", 9, service_keyring) < 0) {
        return setup_failed("adding root's key");
    }
    unsigned keys = 0, max_keys = 0;
    const std::string quota = key_quota(target.uid, &keys, &max_keys);
    if (max_keys == 0 || keys < max_keys) {
        return skipped("the key quota of " + target.name + " is not full (" + quota + ")");
    }
    Pam pam(side, Control::optional, arguments, target.name);
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    pam.open();
    const auto lines = log.take();
    const key_serial_t now = session_keyring();
    const std::string logged = "quota " + quota + ", logged: " + lines_text(loud(lines));
    if (now == service_keyring) {
        return unsafe("EXPOSED",
                      "kept the root service keyring " + std::to_string(now) + "; " + logged);
    }
    if (keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", root_secret, 0) >= 0) {
        return unsafe("EXPOSED", "root's key is found through " + keyring_text(now));
    }
    const KeyInfo info = describe(now);
    if (!info.ok) {
        return unsafe("WRONG", "@s " + keyring_text(now));
    }
    if (info.uid == target.uid) {
        return safe("new " + keyring_text(now));
    }
    if (info.uid != 0) {
        return unsafe("EXPOSED", "in " + keyring_text(now));
    }
    if (links(now, "_uid.0")) {
        return unsafe("EXPOSED", keyring_text(now) + " links root's user keyring _uid.0");
    }
    const std::string warning = "cannot join a new session keyring for user \"" + target.name +
                                "\": Disk quota exceeded; joined keyring " + std::to_string(now) +
                                " owned by root instead, which only this session possesses";
    const auto warned = loud(lines);
    const bool has_warning =
        fresh ? std::any_of(warned.begin(), warned.end(),
                            [&](const LogLine& line) {
                                return line.priority == LOG_WARNING && message(line) == warning;
                            })
              : one_line(lines, LOG_WARNING, warning);
    if (side == Side::ours && !has_warning) {
        return unsafe("WRONG LOG", "new keyring " + std::to_string(now) +
                                       " owned by 0, but not the one LOG_WARNING line: " + logged);
    }
    // The module's own result, through the same line with "required": the
    // fallback is a success (doc/design.md, "Failures").
    if (keyctl_join_session_keyring(nullptr) < 0) {
        return setup_failed("joining the root service's keyring again");
    }
    Pam again(side, Control::required, arguments, target.name);
    const int required_result = again.open();
    log.take();
    const std::string code = "; open with a required line: " + result(required_result);
    if (side == Side::ours && !fresh && required_result != PAM_SUCCESS) {
        return unsafe("WRONG", "new keyring " + std::to_string(now) + " owned by 0" + code);
    }
    return safe("new keyring " + std::to_string(now) + " owned by 0, only this session" +
                (links(now, "_uid." + std::to_string(target.uid)) ? ", linking the target's @u"
                                                                  : ", no user keyring linked") +
                "; the target's quota " + quota + code +
                (fresh ? "; logged: " + lines_text(warned) : ""));
}

// Fills the quota as the target would: keys added to its own @u until the
// kernel says EDQUOT. In a child that becomes the target entirely.
std::string fill_key_quota(const User& target) {
    int fds[2];
    if (pipe(fds) != 0) {
        return "pipe failed";
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        std::string said;
        if (!set_ids(target.uid, target.uid, target.uid, target.gid, target.gid, target.gid)) {
            said = std::string("cannot become the target: ") + std::strerror(errno);
        } else {
            int added = 0;
            for (;; ++added) {
                const std::string name = "adv-fill-" + std::to_string(added);
                if (add_key("user", name.c_str(), "x", 1, KEY_SPEC_USER_KEYRING) < 0) {
                    break;
                }
            }
            said = errno == EDQUOT ? "" : std::string("add_key: ") + std::strerror(errno);
            said += said.empty() ? "" : " after " + std::to_string(added) + " keys";
        }
        (void)!write(fds[1], said.data(), said.size());
        _exit(0);
    }
    close(fds[1]);
    std::string said;
    char buffer[512];
    ssize_t got;
    while ((got = read(fds[0], buffer, sizeof buffer)) > 0) {
        said.append(buffer, static_cast<size_t>(got));
    }
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    return said;
}

// Fills the quota of a target that never had a user keyring, from a
// session keyring of its own that a child keeps (the attacker's process
// that stays alive); returns that child, or -1, with what it saw in *said.
pid_t fill_key_quota_without_user_keyring(const User& target, std::string* said) {
    int fds[2];
    if (pipe(fds) != 0) {
        *said = "pipe failed";
        return -1;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        // It holds the keys for as long as it lives: never longer than
        // the harness.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(300);
        close(fds[0]);
        std::string report;
        if (!set_ids(target.uid, target.uid, target.uid, target.gid, target.gid, target.gid) ||
            keyctl_join_session_keyring(nullptr) < 0) {
            report = std::string("cannot become the target in a keyring of its own: ") +
                     std::strerror(errno);
        } else {
            int added = 0;
            for (;; ++added) {
                const std::string name = "adv-fill-" + std::to_string(added);
                if (add_key("user", name.c_str(), "x", 1, KEY_SPEC_SESSION_KEYRING) < 0) {
                    break;
                }
            }
            if (errno != EDQUOT) {
                report = std::string("add_key: ") + std::strerror(errno);
            } else if (keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 1) >= 0) {
                report = "its user keyring could still be made";
            } else {
                report = "EDQUOT after " + std::to_string(added) +
                         " keys; its @u cannot be made now: " + std::strerror(errno);
            }
        }
        (void)!write(fds[1], report.data(), report.size());
        close(fds[1]);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char buffer[512];
    ssize_t got;
    said->clear();
    while ((got = read(fds[0], buffer, sizeof buffer)) > 0) {
        said->append(buffer, static_cast<size_t>(got));
    }
    close(fds[0]);
    return pid;
}

void empty_user_keyring(const User& target) {
    const pid_t pid = fork();
    if (pid == 0) {
        if (set_ids(target.uid, target.uid, target.uid, target.gid, target.gid, target.gid)) {
            keyctl_clear(KEY_SPEC_USER_KEYRING);
        }
        _exit(0);
    }
    waitpid(pid, nullptr, 0);
}

// --- A3: filesystem IDs of the host's own --------------------------------------

Outcome filesystem_ids(Side side, bool setuid_host, const std::string& arguments) {
    CATCH_SYSLOG(log);
    if (setuid_host && !become_setuid_program_of(config.caller)) {
        return setup_failed("set-uid IDs");
    }
    if (keyctl_join_session_keyring(nullptr) < 0) {
        return setup_failed("joining a keyring");
    }
    Pam pam(side, Control::optional, arguments, config.alice.name);
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    syscall(setfsgid_call, 23456);
    syscall(setfsuid_call, 12345);
    const Ids before = read_ids();
    if (before.fsuid != 12345 || before.fsgid != 23456) {
        return setup_failed("setfsuid/setfsgid");
    }
    const int opened = pam.open();
    const Ids after_open = read_ids();
    const int closed = pam.close();
    const Ids after_close = read_ids();
    if (after_open == before && after_close == before) {
        return safe("all 8 IDs kept: " + text(before));
    }
    return unsafe("CHANGED", "before " + text(before) + "; after open (" + result(opened) + ") " +
                                 text(after_open) + "; after close (" + result(closed) + ") " +
                                 text(after_close));
}

// --- A4: a passwd entry with uid or gid 4294967295 ------------------------------

const char* const uid_max_user = "pkt-uidmax";
const char* const gid_max_user = "pkt-gidmax";

// The entries are added to a copy of /etc/passwd that only this child's
// mount namespace sees: nothing is left behind on the machine.
bool see_passwd(const std::string& copy) {
    return mount(copy.c_str(), "/etc/passwd", nullptr, MS_BIND, nullptr) == 0;
}

Outcome impossible_ids(Side side, bool uid_case, const std::string& arguments) {
    CATCH_SYSLOG(log);
    if (!see_passwd(config.workdir + "/passwd-impossible")) {
        return setup_failed("bind-mounting a passwd with the entries");
    }
    const std::string name = uid_case ? uid_max_user : gid_max_user;
    const passwd* entry = getpwnam(name.c_str());
    if (entry == nullptr ||
        (uid_case ? entry->pw_uid != impossible_id : entry->pw_gid != impossible_id)) {
        return skipped("the passwd lookup does not read /etc/passwd here (nscd?): " + name +
                       " not found with its impossible ID");
    }
    const std::string what = uid_case ? "uid" : "gid";
    const std::string refusal =
        "user \"" + name + "\" has " + what + " 4294967295, which no process can have: refused";
    std::string verdict_word;
    std::string detail;
    int required_result = -1;
    for (Control control : {Control::optional, Control::required}) {
        const key_serial_t service_keyring = keyctl_join_session_keyring(nullptr);
        if (service_keyring < 0) {
            return setup_failed("joining the root service's keyring");
        }
        Pam pam(side, control, arguments, name);
        if (pam.started() != PAM_SUCCESS) {
            return unsafe("ERROR", "pam_start: " + result(pam.started()));
        }
        const int opened = pam.open();
        const auto lines = log.take();
        const key_serial_t now = session_keyring();
        if (control == Control::required) {
            required_result = opened;
        }
        if (now != service_keyring) {
            if (verdict_word.empty()) {
                const KeyInfo info = describe(now);
                verdict_word = "EXPOSED";
                detail = "joined " + keyring_text(now) + " gid " + std::to_string(info.gid) +
                         (links(now, "_uid.0") ? " linking root's _uid.0" : "") + " for " + name;
            }
        } else if (control == Control::optional && !one_line(lines, LOG_ERR, refusal)) {
            verdict_word = "WRONG";
            detail = "keyring unchanged, but logged: " + lines_text(loud(lines));
        }
    }
    const std::string code = "open with a required line: " + result(required_result);
    if (!verdict_word.empty()) {
        return unsafe(verdict_word, detail + "; " + code);
    }
    if (required_result != PAM_SESSION_ERR) {
        return unsafe("WRONG", "keyring unchanged, but " + code);
    }
    return safe("refused, " + code + ", one LOG_ERR line, keyring unchanged");
}

// --- A5: control characters for the log -----------------------------------------

const char* const hostile_keyring_name =
    "adv-evil\n<11>Jan  1 00:00:00 forged[1]: root login\x1b[31m red \x1b[0m \"quoted\" 'single' "
    "back\\slash del\x7f c1\xc2\x85 bad\xff\xfe end";

Outcome checked_lines(const std::vector<LogLine>& lines, const std::string& marker,
                      bool long_name) {
    size_t marked = 0;
    for (const LogLine& line : lines) {
        const std::string bad = forbidden_byte(line.text);
        if (!bad.empty()) {
            return unsafe("INJECTED", bad + " in: " + shown(line.text));
        }
        if (line.text.find(marker) != std::string::npos) {
            ++marked;
        }
    }
    if (long_name) {
        for (const LogLine& line : lines) {
            const size_t run = line.text.find(std::string(257, 'A'));
            if (run != std::string::npos) {
                return unsafe("TOO LONG", "a line shows more than 256 bytes of the name (" +
                                              std::to_string(line.text.size()) + " bytes)");
            }
            if (line.text.find(marker) != std::string::npos &&
                line.text.find("...") == std::string::npos) {
                return unsafe("WRONG",
                              "the cut name does not end with \"...\": " + shown(line.text, 120));
            }
        }
    }
    if (marked == 0) {
        return safe("not logged at all (" + std::to_string(lines.size()) + " lines)");
    }
    std::string example;
    for (const LogLine& line : lines) {
        if (line.text.find(marker) != std::string::npos) {
            example = shown(message(line), 160);
            break;
        }
    }
    return safe(std::to_string(marked) + " lines name it, all printable: " + example);
}

Outcome hostile_keyring_description(Side side) {
    CATCH_SYSLOG(log);
    if (!become_setuid_program_of(config.caller)) {
        return setup_failed("set-uid IDs");
    }
    if (keyctl_join_session_keyring(hostile_keyring_name) < 0) {
        return setup_failed("joining a keyring with a hostile name");
    }
    Pam pam(side, Control::optional, "debug revoke", config.alice.name);
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    pam.open();
    pam.close();
    return checked_lines(log.take(), "adv-evil", false);
}

Outcome hostile_user_name(Side side, const std::string& name, bool long_name) {
    CATCH_SYSLOG(log);
    if (keyctl_join_session_keyring(nullptr) < 0) {
        return setup_failed("joining a keyring");
    }
    Pam pam(side, Control::optional, "debug revoke", name);
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    pam.open();
    pam.close();
    return checked_lines(log.take(), "pkt-adv-x", long_name);
}

// --- A6: PAM_USER changed between setcred and open_session ----------------------

Outcome changed_user(Side side, const std::string& arguments) {
    CATCH_SYSLOG(log);
    if (keyctl_join_session_keyring(nullptr) < 0) {
        return setup_failed("joining the root service's keyring");
    }
    const User& first = config.alice;
    const User& second = config.bob;
    Pam pam(side, Control::optional, arguments, first.name);
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    pam.setcred(PAM_ESTABLISH_CRED);
    const key_serial_t firsts = session_keyring();
    const std::string firsts_text = keyring_text(firsts);
    // Held from the process keyring: once the thread leaves it, nothing else
    // refers to it, and the kernel's garbage collector may destroy it before
    // it is read back (ENOKEY where EKEYREVOKED is looked for).
    if (keyctl_link(firsts, KEY_SPEC_PROCESS_KEYRING) != 0) {
        return setup_failed("holding the first keyring from the process keyring");
    }
    if (pam.set_user(second.name) != PAM_SUCCESS) {
        return setup_failed("pam_set_item(PAM_USER)");
    }
    pam.open();
    const auto lines = log.take();
    const key_serial_t now = session_keyring();
    if (now == firsts) {
        return unsafe("EXPOSED", second.name + " kept " + firsts_text +
                                     ", which setcred left for " + first.name);
    }
    const KeyInfo info = describe(now);
    if (!info.ok || info.uid != second.uid) {
        return unsafe("EXPOSED", second.name + " is in " + keyring_text(now));
    }
    if (side == Side::ours) {
        const std::string notice = "the user changed from uid " + std::to_string(first.uid) +
                                   " to \"" + second.name + "\" (uid " +
                                   std::to_string(second.uid) +
                                   ") on this PAM handle: setting the session keyring up again";
        if (!one_line(lines, LOG_NOTICE, notice)) {
            return unsafe("WRONG LOG",
                          "new " + keyring_text(now) + ", but logged: " + lines_text(loud(lines)));
        }
        if (key_error(firsts) != EKEYREVOKED) {
            return unsafe("WRONG", "new " + keyring_text(now) + ", but " + firsts_text +
                                       " made for " + first.name + " is not revoked");
        }
    }
    return safe("new " + keyring_text(now) + "; " + first.name + "'s " + std::to_string(firsts) +
                (key_error(firsts) == EKEYREVOKED ? " revoked" : " not revoked"));
}

// --- A7: the passwd lookup fails with an error, not "no such user" ---------------

bool drop_dac_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &header, data) != 0) {
        return false;
    }
    for (const int capability : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) {
        const unsigned mask = 1u << (capability % 32);
        data[capability / 32].effective &= ~mask;
        data[capability / 32].permitted &= ~mask;
        data[capability / 32].inheritable &= ~mask;
    }
    return syscall(SYS_capset, &header, data) == 0;
}

Outcome passwd_unreadable(Side side, const std::string& arguments) {
    CATCH_SYSLOG(log);
    // "passwd: files" and a passwd no one may read, in this child's mount
    // namespace; root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (but
    // with CAP_SETUID and CAP_SETGID) cannot open it.
    if (mount((config.workdir + "/nsswitch-files").c_str(), "/etc/nsswitch.conf", nullptr, MS_BIND,
              nullptr) != 0) {
        return setup_failed("bind-mounting nsswitch.conf");
    }
    if (!see_passwd(config.workdir + "/passwd-unreadable")) {
        return setup_failed("bind-mounting an unreadable passwd");
    }
    if (!drop_dac_capabilities()) {
        return setup_failed("dropping CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH");
    }
    const User& target = config.alice;
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    const int lookup = getpwnam_r(target.name.c_str(), &entry, buffer, sizeof buffer, &found);
    if (lookup == 0) {
        return skipped(std::string("the passwd lookup does not fail here: it ") +
                       (found != nullptr ? "still finds the user (nscd?)" : "says no such user"));
    }
    const std::string expected =
        "cannot look up user \"" + target.name + "\": " + std::strerror(lookup);
    std::string detail;
    bool right = true;
    for (Control control : {Control::optional, Control::required}) {
        if (keyctl_join_session_keyring(nullptr) < 0) {
            return setup_failed("joining a keyring");
        }
        Pam pam(side, control, arguments, target.name);
        if (pam.started() != PAM_SUCCESS) {
            return unsafe("ERROR", "pam_start: " + result(pam.started()));
        }
        const int opened = pam.open();
        const auto lines = log.take();
        if (control == Control::optional) {
            right = one_line(lines, LOG_ERR, expected);
            detail = "logged: " + lines_text(loud(lines));
        } else {
            right = right && opened == PAM_SESSION_ERR;
            detail = "open with a required line: " + result(opened) + ", " + detail;
        }
    }
    detail += " (getpwnam_r: " + std::string(std::strerror(lookup)) + ")";
    return right ? safe(detail) : unsafe("WRONG", detail);
}

// --- A8: close on another thread; two handles on one thread ---------------------

std::string revoke_refusal(key_serial_t keyring) {
    return "cannot revoke session keyring " + std::to_string(keyring) +
           ": Permission denied (only a thread that possesses it can: was the session opened on "
           "another thread?)";
}

std::string state_text(key_serial_t keyring) {
    const int error = key_error(keyring);
    return std::to_string(keyring) + (error == 0 ? " alive"
                                      : error == EKEYREVOKED
                                          ? " revoked"
                                          : " " + std::string(std::strerror(error)));
}

Outcome close_on_another_thread(Side side) {
    CATCH_SYSLOG(log);
    std::string detail;
    std::string wrong;
    for (Control control : {Control::optional, Control::required}) {
        if (keyctl_join_session_keyring(nullptr) < 0) {
            return setup_failed("joining the root service's keyring");
        }
        Pam pam(side, control, "force revoke", config.alice.name);
        if (pam.started() != PAM_SUCCESS) {
            return unsafe("ERROR", "pam_start: " + result(pam.started()));
        }
        // The closing thread is there before the open, as a host's worker
        // pool is: it does not possess what the open joins.
        std::atomic<int> stage{0};
        int closed = -1;
        std::thread closer([&] {
            while (stage.load() == 0) {
                std::this_thread::yield();
            }
            closed = pam.close();
        });
        const int opened = pam.open();
        const key_serial_t made = session_keyring();
        stage = 1;
        closer.join();
        const auto lines = log.take();
        if (control == Control::optional) {
            detail = "open " + result(opened) + ", keyring " + state_text(made) +
                     " after the close; logged: " + lines_text(loud(lines));
            if (side == Side::ours && !one_line(lines, LOG_ERR, revoke_refusal(made))) {
                wrong = "not the one LOG_ERR line that explains";
            }
        } else {
            detail = "close with a required line: " + result(closed) + "; " + detail;
            if (closed != PAM_SESSION_ERR) {
                wrong += std::string(wrong.empty() ? "" : "; ") + "close is not PAM_SESSION_ERR";
            }
        }
    }
    if (side == Side::stock) {
        return {Outcome::safe, "RECORDED", detail};
    }
    return wrong.empty() ? safe(detail) : unsafe("WRONG", wrong + ": " + detail);
}

// Two handles on one thread, one after the other, closed in the order they
// were opened. The same user without force: the second keeps the keyring
// the first made, and the first close revokes it for both. Two users with
// force: the first close finds the thread in the second's keyring and
// cannot revoke its own.
Outcome two_handles(Side side, bool same_user) {
    CATCH_SYSLOG(log);
    const std::string arguments = same_user ? "revoke" : "force revoke";
    const User& first = config.alice;
    const User& second = same_user ? config.alice : config.bob;
    std::string detail;
    std::string wrong;
    for (Control control : {Control::optional, Control::required}) {
        if (keyctl_join_session_keyring(nullptr) < 0) {
            return setup_failed("joining the root service's keyring");
        }
        Pam one(side, control, arguments, first.name);
        Pam two(side, control, arguments, second.name);
        if (one.started() != PAM_SUCCESS || two.started() != PAM_SUCCESS) {
            return unsafe("ERROR", "pam_start failed");
        }
        const int opened_one = one.open();
        const key_serial_t ones = session_keyring();
        const std::string ones_text = keyring_text(ones);
        const int opened_two = two.open();
        const key_serial_t twos = session_keyring();
        const std::string twos_text = keyring_text(twos);
        const bool twos_own = describe(twos).uid == second.uid;
        log.take();
        const int closed_one = one.close();
        const auto close_lines = log.take();
        const std::string ones_after_first_close = state_text(ones);
        const int closed_two = two.close();
        log.take();
        if (control == Control::optional) {
            detail = "opens " + result(opened_one) + " " + ones_text + ", " + result(opened_two) +
                     (twos == ones ? " same keyring" : " " + twos_text) +
                     "; after the first close " + ones_after_first_close + ", after the second " +
                     state_text(twos) + "; first close logged: " + lines_text(loud(close_lines));
        } else {
            detail = "closes with a required line: " + result(closed_one) + ", " +
                     result(closed_two) + "; " + detail;
        }
        if (side == Side::stock) {
            continue;
        }
        auto expect = [&](bool holds, const std::string& what) {
            if (!holds) {
                wrong += (wrong.empty() ? "" : "; ") + what;
            }
        };
        if (same_user) {
            expect(twos == ones, "the second open did not keep the first's keyring");
            expect(ones_after_first_close.find("revoked") != std::string::npos,
                   "the first close did not revoke it");
            expect(closed_one == PAM_SUCCESS && closed_two == PAM_SUCCESS,
                   "a close did not succeed");
        } else {
            expect(twos != ones && twos_own, "the second user has no keyring of its own");
            expect(key_error(twos) == EKEYREVOKED, "the second close did not revoke its keyring");
            if (control == Control::optional) {
                expect(one_line(close_lines, LOG_ERR, revoke_refusal(ones)),
                       "the first close did not log the one LOG_ERR line that explains");
            } else {
                expect(closed_one == PAM_SESSION_ERR, "the first close is not PAM_SESSION_ERR");
                expect(closed_two == PAM_SUCCESS, "the second close did not succeed");
            }
        }
    }
    if (side == Side::stock) {
        return {Outcome::safe, "RECORDED", detail};
    }
    return wrong.empty() ? safe(detail) : unsafe("WRONG", wrong + ": " + detail);
}

// --- A9: root as the target, from a user's keyring (sudo -i on Debian) ---------

Outcome root_target(Side side) {
    CATCH_SYSLOG(log);
    if (!become_setuid_program_of(config.caller)) {
        return setup_failed("set-uid IDs");
    }
    const key_serial_t callers = keyctl_join_session_keyring(nullptr);
    if (callers < 0) {
        return setup_failed("joining a keyring as the caller");
    }
    Pam pam(side, Control::optional, "revoke", "root");
    if (pam.started() != PAM_SUCCESS) {
        return unsafe("ERROR", "pam_start: " + result(pam.started()));
    }
    pam.open();
    const std::string logged = "logged: " + lines_text(loud(log.take()));
    const key_serial_t now = session_keyring();
    if (now == callers) {
        return unsafe("EXPOSED", "root kept the caller's " + keyring_text(callers) + "; " + logged);
    }
    const KeyInfo info = describe(now);
    if (!info.ok || info.uid != 0) {
        return unsafe("EXPOSED", "root is in " + keyring_text(now));
    }
    if (!links(now, "_uid.0")) {
        return unsafe("WRONG", "new " + keyring_text(now) + " does not link _uid.0");
    }
    return safe("new " + keyring_text(now) + " linking _uid.0");
}

// --- set-up --------------------------------------------------------------------

bool write_file(const std::string& path, const std::string& contents, mode_t mode) {
    std::ofstream out(path, std::ios::trunc);
    out << contents;
    out.close();
    return out.good() && chmod(path.c_str(), mode) == 0;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

bool prepare_workdir() {
    config.confdir = config.workdir + "/pam.d";
    if (mkdir(config.confdir.c_str(), 0755) != 0 && errno != EEXIST) {
        return false;
    }
    bool ok = write_file(config.confdir + "/other",
                         "auth required pam_deny.so\naccount required pam_deny.so\n"
                         "password required pam_deny.so\nsession required pam_deny.so\n",
                         0644);
    for (Side side : {Side::ours, Side::stock}) {
        const std::string& path = side == Side::ours ? config.ours : config.stock;
        for (Control control : {Control::optional, Control::required}) {
            const std::string word = control == Control::optional ? "optional" : "required";
            for (const char* arguments :
                 {"force revoke", "revoke", "debug revoke", "debug force revoke"}) {
                // As distributions ship it; the auth lines serve setcred.
                const std::string lines = "auth " + word + " " + path + " " + arguments +
                                          "\nauth required pam_permit.so\n" + "session " + word +
                                          " " + path + " " + arguments +
                                          "\nsession required pam_permit.so\n";
                ok = ok && write_file(config.confdir + "/" + service(side, control, arguments),
                                      lines, 0644);
            }
        }
    }
    const std::string passwd = read_file("/etc/passwd");
    ok = ok && write_file(config.workdir + "/passwd-impossible",
                          passwd + uid_max_user + ":x:4294967295:65534:pam-keyinit tests:" +
                              "/nonexistent:/usr/sbin/nologin\n" + gid_max_user +
                              ":x:3000000001:4294967295:pam-keyinit tests:/nonexistent:" +
                              "/usr/sbin/nologin\n",
                          0644);
    ok = ok && write_file(config.workdir + "/passwd-unreadable", passwd, 0);
    ok = ok && write_file(config.workdir + "/nsswitch-files",
                          "passwd: files\ngroup: files\nshadow: files\n", 0644);
    return ok;
}

bool find_user(const std::string& name, User* user) {
    const passwd* entry = getpwnam(name.c_str());
    if (entry == nullptr) {
        std::fprintf(stderr, "adversarial: no user %s\n", name.c_str());
        return false;
    }
    *user = {name, entry->pw_uid, entry->pw_gid};
    return true;
}

int usage() {
    std::fprintf(stderr,
                 "usage: adversarial --workdir DIR --caller USER --alice USER --bob USER "
                 "--quota USER --fresh USER [--ours MODULE] [--stock MODULE] [CASE-PREFIX...]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string caller, alice, bob, quota, fresh;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](std::string* into) {
            if (i + 1 >= argc) {
                return false;
            }
            *into = argv[++i];
            return true;
        };
        bool ok = true;
        if (arg == "--workdir") {
            ok = value(&config.workdir);
        } else if (arg == "--caller") {
            ok = value(&caller);
        } else if (arg == "--alice") {
            ok = value(&alice);
        } else if (arg == "--bob") {
            ok = value(&bob);
        } else if (arg == "--quota") {
            ok = value(&quota);
        } else if (arg == "--fresh") {
            ok = value(&fresh);
        } else if (arg == "--ours") {
            ok = value(&config.ours);
        } else if (arg == "--stock") {
            ok = value(&config.stock);
        } else if (arg.rfind("--", 0) == 0) {
            ok = false;
        } else {
            config.only.push_back(arg);
        }
        if (!ok) {
            return usage();
        }
    }
    if (config.workdir.empty() || !find_user(caller, &config.caller) ||
        !find_user(alice, &config.alice) || !find_user(bob, &config.bob) ||
        !find_user(quota, &config.quota) || !find_user(fresh, &config.fresh)) {
        return usage();
    }
    if (!prepare_workdir()) {
        std::fprintf(stderr, "adversarial: cannot write the service files in %s: %s\n",
                     config.workdir.c_str(), std::strerror(errno));
        return 1;
    }
    std::printf("ours: %s\nstock: %s\n", config.ours.c_str(), config.stock.c_str());

    for (const char* arguments : {"force revoke", "revoke"}) {
        for (Spoil spoil : {Spoil::permissions, Spoil::invalidate}) {
            run_case(std::string("A1 caller's keyring ") +
                         (spoil == Spoil::permissions ? "without possessor permissions"
                                                      : "invalidated") +
                         ", " + arguments,
                     [=](Side side) { return spoiled_callers_keyring(side, spoil, arguments); });
        }
    }

    if (selected("A2 quota")) {
        const std::string fill = fill_key_quota(config.quota);
        std::printf("A2: %s filled its key quota: %s (/proc/key-users: %s)\n",
                    config.quota.name.c_str(), fill.empty() ? "EDQUOT" : fill.c_str(),
                    key_quota(config.quota.uid).c_str());
        for (const char* arguments : {"force revoke", "revoke"}) {
            run_case(std::string("A2 quota, ") + arguments, [=](Side side) {
                return quota_from_root_service(side, config.quota, false, arguments);
            });
        }
        empty_user_keyring(config.quota);
        // The kernel frees the unlinked keys a moment later.
        unsigned keys = 0, max_keys = 0;
        for (int i = 0; i < 40 && (key_quota(config.quota.uid, &keys, &max_keys), keys >= max_keys);
             ++i) {
            usleep(50000);
        }
        std::printf("A2: %s's user keyring emptied (/proc/key-users: %s)\n",
                    config.quota.name.c_str(), key_quota(config.quota.uid).c_str());
    }
    if (selected("A2 quota filled without a user keyring")) {
        const std::string before = key_quota(config.fresh.uid);
        std::string said;
        pid_t filler = -1;
        if (before == "none") {
            filler = fill_key_quota_without_user_keyring(config.fresh, &said);
            std::printf(
                "A2: %s (uid %u) filled its key quota from a keyring of its own: %s "
                "(/proc/key-users: %s)\n",
                config.fresh.name.c_str(), config.fresh.uid, said.c_str(),
                key_quota(config.fresh.uid).c_str());
        }
        for (const char* arguments : {"force revoke", "revoke"}) {
            run_case(std::string("A2 quota filled without a user keyring, ") + arguments,
                     [=](Side side) {
                         if (filler < 0) {
                             return skipped("uid " + std::to_string(config.fresh.uid) +
                                            " has keys already (/proc/key-users: " + before + ")");
                         }
                         return quota_from_root_service(side, config.fresh, true, arguments);
                     });
        }
        if (filler > 0) {
            kill(filler, SIGKILL);
            waitpid(filler, nullptr, 0);
        }
    }

    run_case("A3 fsuid/fsgid, root host, force revoke",
             [](Side side) { return filesystem_ids(side, false, "force revoke"); });
    run_case("A3 fsuid/fsgid, set-uid host, revoke",
             [](Side side) { return filesystem_ids(side, true, "revoke"); });

    for (bool uid_case : {true, false}) {
        for (const char* arguments : {"force revoke", "revoke"}) {
            run_case(std::string("A4 ") + (uid_case ? "uid" : "gid") + " 4294967295, " + arguments,
                     [=](Side side) { return impossible_ids(side, uid_case, arguments); });
        }
    }

    run_case("A5 control characters in the caller's keyring name, debug revoke",
             [](Side side) { return hostile_keyring_description(side); });
    run_case("A5 control characters in an unknown user name, debug revoke", [](Side side) {
        return hostile_user_name(
            side, "pkt-adv-x\n<11>Jan  1 00:00:00 forged[1]: \x1b[31m\"root\"\x7f\xc2\x9b\xff",
            false);
    });
    run_case("A5 a 1000-byte user name, debug revoke", [](Side side) {
        return hostile_user_name(side, "pkt-adv-x" + std::string(1000, 'A') + "\n", true);
    });

    for (const char* arguments : {"revoke", "force revoke"}) {
        run_case(std::string("A6 PAM_USER changed after setcred, ") + arguments,
                 [=](Side side) { return changed_user(side, arguments); });
    }

    for (const char* arguments : {"force revoke", "revoke"}) {
        run_case(std::string("A7 passwd unreadable, ") + arguments,
                 [=](Side side) { return passwd_unreadable(side, arguments); });
    }

    run_case("A8 close on another thread, force revoke",
             [](Side side) { return close_on_another_thread(side); });
    run_case("A8 two handles on one thread, one user, revoke",
             [](Side side) { return two_handles(side, true); });
    run_case("A8 two handles on one thread, two users, force revoke",
             [](Side side) { return two_handles(side, false); });

    run_case("A9 root target from the caller's keyring, revoke",
             [](Side side) { return root_target(side); });

    std::printf("adversarial: %d passed, %d failed, %d skipped\n", passed, failed, skips);
    return failed == 0 ? 0 : 1;
}
