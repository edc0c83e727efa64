// The built module, as a host program sees it: what it exports and what it
// drags into the process (STYLE.md practices 7 and 8).
#include <dlfcn.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
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

template <typename T>
const T* at(const std::vector<char>& file, size_t offset, size_t count = 1) {
    if (offset > file.size() || count * sizeof(T) > file.size() - offset) {
        throw std::runtime_error("truncated ELF file");
    }
    return reinterpret_cast<const T*>(file.data() + offset);
}

DynamicInfo read_dynamic(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> file{std::istreambuf_iterator<char>(in), {}};
    const auto* header = at<Elf64_Ehdr>(file, 0);
    if (std::string(reinterpret_cast<const char*>(header->e_ident), 4) != ELFMAG ||
        header->e_ident[EI_CLASS] != ELFCLASS64) {
        throw std::runtime_error("not a 64-bit ELF file");
    }
    const auto* sections = at<Elf64_Shdr>(file, header->e_shoff, header->e_shnum);
    DynamicInfo info;
    for (size_t i = 0; i < header->e_shnum; ++i) {
        const Elf64_Shdr& section = sections[i];
        const Elf64_Shdr& strings = sections[section.sh_link];
        const char* names = at<char>(file, strings.sh_offset, strings.sh_size);
        if (section.sh_type == SHT_DYNSYM) {
            const size_t count = section.sh_size / sizeof(Elf64_Sym);
            const auto* symbols = at<Elf64_Sym>(file, section.sh_offset, count);
            for (size_t s = 0; s < count; ++s) {
                const Elf64_Sym& symbol = symbols[s];
                const int binding = ELF64_ST_BIND(symbol.st_info);
                if (symbol.st_shndx != SHN_UNDEF && (binding == STB_GLOBAL || binding == STB_WEAK) &&
                    ELF64_ST_VISIBILITY(symbol.st_other) == STV_DEFAULT && symbol.st_name != 0) {
                    info.exported.insert(names + symbol.st_name);
                }
            }
        } else if (section.sh_type == SHT_DYNAMIC) {
            const size_t count = section.sh_size / sizeof(Elf64_Dyn);
            const auto* entries = at<Elf64_Dyn>(file, section.sh_offset, count);
            for (size_t e = 0; e < count && entries[e].d_tag != DT_NULL; ++e) {
                switch (entries[e].d_tag) {
                    case DT_NEEDED: info.needed.emplace_back(names + entries[e].d_un.d_val); break;
                    case DT_BIND_NOW: info.bind_now = true; break;
                    case DT_FLAGS:
                        info.bind_now |= (entries[e].d_un.d_val & DF_BIND_NOW) != 0;
                        info.text_relocations |= (entries[e].d_un.d_val & DF_TEXTREL) != 0;
                        break;
                    case DT_FLAGS_1:
                        info.bind_now |= (entries[e].d_un.d_val & DF_1_NOW) != 0;
                        info.no_delete |= (entries[e].d_un.d_val & DF_1_NODELETE) != 0;
                        break;
                    case DT_TEXTREL: info.text_relocations = true; break;
                    default: break;
                }
            }
        }
    }
    return info;
}

const std::set<std::string> entry_points = {"pam_sm_authenticate", "pam_sm_close_session",
                                            "pam_sm_open_session", "pam_sm_setcred"};

TEST(Symbols, LoadsWithEveryReferenceResolved) {
    void* module = dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(module, nullptr) << dlerror();
    for (const std::string& name : entry_points) {
        EXPECT_NE(dlsym(module, name.c_str()), nullptr) << name;
    }
    for (const char* hidden : {"_ZN11pam_keyinit10initialiseERKNS_6SystemEP9pam_handleNS_5PhaseEiPPKc",
                               "_ZN11pam_keyinit13kernel_systemEv"}) {
        EXPECT_EQ(dlsym(module, hidden), nullptr) << hidden << " must not be visible";
    }
    dlclose(module);
}

TEST(Symbols, ExportsExactlyTheFourEntryPoints) {
    EXPECT_EQ(read_dynamic(module_path).exported, entry_points);
}

TEST(Symbols, NeedsOnlyLibpamLibkeyutilsAndLibc) {
    std::vector<std::string> needed = read_dynamic(module_path).needed;
    std::sort(needed.begin(), needed.end());
    EXPECT_EQ(needed, (std::vector<std::string>{"libc.so.6", "libkeyutils.so.1", "libpam.so.0"}));
    for (const std::string& library : needed) {
        EXPECT_EQ(library.find("libstdc++"), std::string::npos);
        EXPECT_EQ(library.find("libgcc_s"), std::string::npos);
        EXPECT_NE(library, "libm.so.6");
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
