// SPDX-License-Identifier: BSD-3-Clause
// The built module, as a host program sees it: what it exports and what it
// drags into the process.
#include <dlfcn.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

std::string module_path;

struct DynamicInfo {
    std::set<std::string> exported;  // defined, global or weak, default visibility
    std::vector<std::string> needed;
    bool bind_now = false;
    bool no_delete = false;
    bool text_relocations = false;
};

// The module as the target's loader reads it: ELF of either class (32 or 64
// bits) and either byte order, whatever the machine running this test is
// (a cross-built module is checked under an emulator or on the build host).
struct Elf32 {
    using Ehdr = Elf32_Ehdr;
    using Shdr = Elf32_Shdr;
    using Sym = Elf32_Sym;
    using Dyn = Elf32_Dyn;
};
struct Elf64 {
    using Ehdr = Elf64_Ehdr;
    using Shdr = Elf64_Shdr;
    using Sym = Elf64_Sym;
    using Dyn = Elf64_Dyn;
};

class ElfFile {
public:
    explicit ElfFile(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            throw std::runtime_error("cannot open " + path);
        }
        bytes_.assign(std::istreambuf_iterator<char>(in), {});
        unsigned char ident[EI_NIDENT];
        copy_out(ident, 0, sizeof ident);
        if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
            throw std::runtime_error(path + ": not an ELF file");
        }
        if (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64) {
            throw std::runtime_error(path + ": unknown ELF class");
        }
        if (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB) {
            throw std::runtime_error(path + ": unknown ELF byte order");
        }
        class_ = ident[EI_CLASS];
        const bool little = ident[EI_DATA] == ELFDATA2LSB;
        swap_ = little != (std::endian::native == std::endian::little);
    }

    bool is_64_bit() const { return class_ == ELFCLASS64; }

    // A copy of the structure at offset (the file gives no alignment).
    template <typename T>
    T read(std::uint64_t offset, std::uint64_t index = 0) const {
        T value;
        copy_out(&value, checked_add(offset, checked_multiply(index, sizeof(T))), sizeof(T));
        return value;
    }

    // An integer field of a structure read from the file, in host order.
    template <typename T>
    T host(T field) const {
        static_assert(std::is_integral_v<T>);
        if (!swap_) {
            return field;
        }
        using Unsigned = std::make_unsigned_t<T>;
        auto value = static_cast<Unsigned>(field);
        Unsigned result = 0;
        for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
            result = static_cast<Unsigned>((result << 8U) | (value & 0xFFU));
            value = static_cast<Unsigned>(value >> 8U);
        }
        return static_cast<T>(result);
    }

    // The NUL-terminated string at offset within a string table section.
    std::string string_at(std::uint64_t table_offset, std::uint64_t table_size,
                          std::uint64_t offset) const {
        if (offset >= table_size) {
            throw std::runtime_error("string offset outside its table");
        }
        const std::size_t start = to_size(checked_add(table_offset, offset));
        const std::size_t end = to_size(checked_add(table_offset, table_size));
        if (end > bytes_.size()) {
            throw std::runtime_error("truncated ELF file");
        }
        const auto* first = bytes_.data() + start;
        const auto* last = bytes_.data() + end;
        const auto* nul = std::find(first, last, '\0');
        if (nul == last) {
            throw std::runtime_error("string without its NUL");
        }
        return std::string(first, nul);
    }

private:
    static std::size_t to_size(std::uint64_t value) {
        if (value > std::numeric_limits<std::size_t>::max()) {
            throw std::runtime_error("ELF offset beyond this machine's address space");
        }
        return static_cast<std::size_t>(value);
    }
    static std::uint64_t checked_add(std::uint64_t a, std::uint64_t b) {
        if (a > std::numeric_limits<std::uint64_t>::max() - b) {
            throw std::runtime_error("ELF offset overflows");
        }
        return a + b;
    }
    static std::uint64_t checked_multiply(std::uint64_t a, std::uint64_t b) {
        if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) {
            throw std::runtime_error("ELF offset overflows");
        }
        return a * b;
    }
    void copy_out(void* to, std::uint64_t offset, std::size_t size) const {
        if (offset > bytes_.size() || size > bytes_.size() - to_size(offset)) {
            throw std::runtime_error("truncated ELF file");
        }
        std::memcpy(to, bytes_.data() + to_size(offset), size);
    }

    std::vector<char> bytes_;
    unsigned char class_ = ELFCLASSNONE;
    bool swap_ = false;
};

template <typename Elf>
DynamicInfo read_dynamic(const ElfFile& file) {
    const auto header = file.read<typename Elf::Ehdr>(0);
    const std::uint64_t section_offset = file.host(header.e_shoff);
    const std::uint16_t section_count = file.host(header.e_shnum);
    if (file.host(header.e_shentsize) != sizeof(typename Elf::Shdr)) {
        throw std::runtime_error("unexpected ELF section header size");
    }
    DynamicInfo info;
    for (std::uint16_t i = 0; i < section_count; ++i) {
        const auto section = file.read<typename Elf::Shdr>(section_offset, i);
        const std::uint32_t type = file.host(section.sh_type);
        if (type != SHT_DYNSYM && type != SHT_DYNAMIC) {
            continue;
        }
        const std::uint32_t link = file.host(section.sh_link);
        if (link >= section_count) {
            throw std::runtime_error("ELF section links a section that is not there");
        }
        const auto strings = file.read<typename Elf::Shdr>(section_offset, link);
        const std::uint64_t names_offset = file.host(strings.sh_offset);
        const std::uint64_t names_size = file.host(strings.sh_size);
        const auto name = [&](std::uint64_t offset) {
            return file.string_at(names_offset, names_size, offset);
        };
        const std::uint64_t offset = file.host(section.sh_offset);
        const std::uint64_t size = file.host(section.sh_size);
        if (type == SHT_DYNSYM) {
            for (std::uint64_t s = 0; s < size / sizeof(typename Elf::Sym); ++s) {
                const auto symbol = file.read<typename Elf::Sym>(offset, s);
                const int binding = ELF64_ST_BIND(symbol.st_info);
                if (file.host(symbol.st_shndx) != SHN_UNDEF &&
                    (binding == STB_GLOBAL || binding == STB_WEAK) &&
                    ELF64_ST_VISIBILITY(symbol.st_other) == STV_DEFAULT &&
                    file.host(symbol.st_name) != 0) {
                    info.exported.insert(name(file.host(symbol.st_name)));
                }
            }
        } else {
            for (std::uint64_t e = 0; e < size / sizeof(typename Elf::Dyn); ++e) {
                const auto entry = file.read<typename Elf::Dyn>(offset, e);
                const std::int64_t tag = file.host(entry.d_tag);
                const std::uint64_t value = file.host(entry.d_un.d_val);
                if (tag == DT_NULL) {
                    break;
                }
                switch (tag) {
                    case DT_NEEDED: info.needed.push_back(name(value)); break;
                    case DT_BIND_NOW: info.bind_now = true; break;
                    case DT_FLAGS:
                        info.bind_now |= (value & DF_BIND_NOW) != 0;
                        info.text_relocations |= (value & DF_TEXTREL) != 0;
                        break;
                    case DT_FLAGS_1:
                        info.bind_now |= (value & DF_1_NOW) != 0;
                        info.no_delete |= (value & DF_1_NODELETE) != 0;
                        break;
                    case DT_TEXTREL: info.text_relocations = true; break;
                    default: break;
                }
            }
        }
    }
    return info;
}

DynamicInfo read_dynamic(const std::string& path) {
    const ElfFile file(path);
    return file.is_64_bit() ? read_dynamic<Elf64>(file) : read_dynamic<Elf32>(file);
}

const std::set<std::string> entry_points = {"pam_sm_authenticate", "pam_sm_close_session",
                                            "pam_sm_open_session", "pam_sm_setcred"};

TEST(Symbols, LoadsWithEveryReferenceResolved) {
    void* module = dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(module, nullptr) << dlerror();
    for (const std::string& name : entry_points) {
        EXPECT_NE(dlsym(module, name.c_str()), nullptr) << name;
    }
    for (const char* hidden :
         {"_ZN11pam_keyinit10initialiseERKNS_6SystemEP9pam_handleNS_5PhaseEiPPKc",
          "_ZN11pam_keyinit13kernel_systemEv"}) {
        EXPECT_EQ(dlsym(module, hidden), nullptr) << hidden << " must not be visible";
    }
    dlclose(module);
}

TEST(Symbols, ExportsExactlyTheFourEntryPoints) {
    EXPECT_EQ(read_dynamic(module_path).exported, entry_points);
}

// glibc's dynamic loader: ld-linux*.so.N (x86, arm, riscv), ld64.so.N
// (s390x, ppc64), ld.so.N (mips).
bool is_dynamic_loader(const std::string& name) {
    return name.starts_with("ld-linux") || name.starts_with("ld64.so.") ||
           name.starts_with("ld.so.");
}

#ifdef PAM_KEYINIT_SANITIZED
constexpr bool sanitized_build = true;
#else
constexpr bool sanitized_build = false;
#endif

bool is_sanitizer_runtime(const std::string& name) {
    for (const char* runtime : {"libasan.", "libubsan.", "libtsan.", "liblsan.", "libhwasan."}) {
        if (name.starts_with(runtime)) {
            return true;
        }
    }
    return false;
}

TEST(Symbols, NeedsOnlyLibpamLibkeyutilsAndLibc) {
    std::vector<std::string> needed = read_dynamic(module_path).needed;
    // Where glibc keeps the stack protector's canary in the loader
    // (__stack_chk_guard on arm64), -fstack-protector makes the module need
    // the loader too; it is in every process already.
    std::erase_if(needed, is_dynamic_loader);
    // A sanitizer build (meson's b_sanitize) links the sanitizers' runtimes
    // into everything it builds; every other build must not need them.
    if (sanitized_build) {
        std::erase_if(needed, is_sanitizer_runtime);
    }
    std::sort(needed.begin(), needed.end());
    EXPECT_EQ(needed, (std::vector<std::string>{"libc.so.6", "libkeyutils.so.1", "libpam.so.0"}));
    for (const std::string& library : needed) {
        EXPECT_EQ(library.find("libstdc++"), std::string::npos);
        EXPECT_EQ(library.find("libgcc_s"), std::string::npos);
        EXPECT_NE(library, "libm.so.6");
    }
}

TEST(Symbols, NeedsNoSanitizerRuntimeOutsideASanitizerBuild) {
    if (sanitized_build) {
        GTEST_SKIP() << "a sanitizer build (b_sanitize) links the sanitizer runtimes";
    }
    for (const std::string& library : read_dynamic(module_path).needed) {
        EXPECT_FALSE(is_sanitizer_runtime(library)) << library;
    }
}

TEST(Symbols, HardenedLink) {
    const DynamicInfo info = read_dynamic(module_path);
    EXPECT_TRUE(info.bind_now) << "linked with -z now";
    EXPECT_FALSE(info.text_relocations);
}

// Loaded once per process, not at every pam_start() (see README, Performance).
TEST(Symbols, StaysMappedAfterPamEnd) {
    EXPECT_TRUE(read_dynamic(module_path).no_delete) << "linked with -z nodelete";
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PATH-TO-pam_keyinit.so\n", argv[0]);
        return 2;
    }
    module_path = argv[1];
    return RUN_ALL_TESTS();
}
