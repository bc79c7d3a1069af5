// element_lengths.cpp - a check of a DICOM file's element lengths before GDCM reads it. GDCM
// allocates each element's value at the length the file claims (a 1 KB file can claim 4 GB: the
// fuzzer found it), so every length is first compared with the bytes left in the file. The walk
// reads only element headers (tag, VR, length) and seeks over values; nested sequences and
// encapsulated pixel data are walked into.
#include "element_lengths.h"

#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Walker {
    FILE *file;
    long size;
    bool implicitVR = false;
    bool bigEndian = false;   // Explicit VR Big Endian (retired): the data set's numbers swapped
    std::string problem;

    bool read(void *into, size_t n) { return fread(into, 1, n, file) == n; }
    long left() { return size - ftell(file); }
    /// Bytes left in the container being walked (a defined-length item or sequence), else the file.
    long leftIn(long end) { return end >= 0 ? std::min(end, size) - ftell(file) : left(); }
};

uint16_t u16(const unsigned char *p, bool big = false) { return big ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[0] | p[1] << 8); }
uint32_t u32(const unsigned char *p, bool big = false) {
    return big ? uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3])
               : uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

bool hasLongLength(const char vr[2]) {
    static const char *const longVRs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"};
    for (const char *v : longVRs) if (vr[0] == v[0] && vr[1] == v[1]) return true;
    return false;
}

bool isVR(const char vr[2]) {
    static const char *const all[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD",
                                      "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI",
                                      "UL", "UN", "UR", "US", "UT", "UV"};
    for (const char *v : all) if (vr[0] == v[0] && vr[1] == v[1]) return true;
    return false;
}

std::string tagName(uint16_t group, uint16_t element) {
    char text[16];
    std::snprintf(text, sizeof text, "(%04x,%04x)", group, element);
    return text;
}

const uint32_t kUndefined = 0xffffffffu;

const int kMaxDepth = 64;

// Walks elements until `end` (a file offset; -1: to a sequence delimiter or the end of file).
// Returns false on a length beyond the file or sequences nested deeper than kMaxDepth (problem
// set), true otherwise. A deflated data set is refused: it cannot be walked.
bool walk(Walker &w, long end, bool fragments, int depth) {
    if (depth > kMaxDepth) {
        w.problem = "sequences nested deeper than " + std::to_string(kMaxDepth);
        return false;
    }
    while ((end < 0 ? w.left() >= 8 : ftell(w.file) + 8 <= end)) {
        unsigned char head[8];
        if (!w.read(head, 8)) return true;
        // The file meta group is little endian whatever the data set is.
        bool big = w.bigEndian && !(head[0] == 0x02 && head[1] == 0x00);
        uint16_t group = u16(head, big), element = u16(head + 2, big);
        if (group == 0xfffe) {  // item, item delimiter, sequence delimiter: 4-byte length
            uint32_t length = u32(head + 4, big);
            if (element == 0xe0dd) return true;   // sequence delimiter
            if (element == 0xe00d) continue;      // item delimiter
            if (length == kUndefined) {
                if (fragments) { w.problem = "a pixel data fragment of undefined length"; return false; }
                continue;                         // an item of undefined length: its elements follow
            }
            if (long(length) > w.leftIn(end)) {
                w.problem = "an item claims " + std::to_string(length) + " bytes, " + std::to_string(w.leftIn(end)) + " remain in the file";
                return false;
            }
            if (fragments) fseek(w.file, long(length), SEEK_CUR);
            else if (!walk(w, ftell(w.file) + long(length), false, depth + 1)) return false;
            continue;
        }
        bool metaGroup = group == 0x0002;   // the file meta group is always explicit VR
        bool explicitVR = metaGroup || !w.implicitVR;
        char vr[2] = {0, 0};
        uint32_t length;
        if (explicitVR) {
            vr[0] = char(head[4]), vr[1] = char(head[5]);
            // GDCM (built with assertions in Debian) aborts the process on some malformed
            // elements, the file meta group's above all: anything but a known VR is refused.
            if (!isVR(vr)) {
                w.problem = "element " + tagName(group, element) + " has no valid VR";
                return false;
            }
            if (hasLongLength(vr)) {
                unsigned char more[4];
                if (!w.read(more, 4)) return true;
                length = u32(more, big);
            } else {
                length = u16(head + 6, big);
            }
        } else {
            length = u32(head + 4, big);
        }
        if (metaGroup && (length == kUndefined || (vr[0] == 'S' && vr[1] == 'Q'))) {
            w.problem = "the file meta element " + tagName(group, element) + " is a sequence or of undefined length";
            return false;
        }
        if (length == kUndefined) {
            bool pixelData = group == 0x7fe0 && element == 0x0010;
            // An undefined-length UN is a sequence encoded in implicit VR (PS3.5 6.2.2).
            bool implicitBefore = w.implicitVR;
            if (explicitVR && vr[0] == 'U' && vr[1] == 'N') w.implicitVR = true;
            bool ok = walk(w, -1, pixelData, depth + 1);
            w.implicitVR = implicitBefore;
            if (!ok) return false;
            continue;
        }
        if (long(length) > w.leftIn(end)) {
            w.problem = "element " + tagName(group, element) + " claims " + std::to_string(length) + " bytes, " +
                        std::to_string(w.leftIn(end)) + " remain in the file";
            return false;
        }
        // A sequence: explicit SQ, or in implicit VR a value that starts with an item tag.
        bool sequence = explicitVR && vr[0] == 'S' && vr[1] == 'Q';
        if (!explicitVR && length >= 8 && group != 0x7fe0) {
            unsigned char peek[4];
            long at = ftell(w.file);
            sequence = w.read(peek, 4) && u16(peek, big) == 0xfffe && u16(peek + 2, big) == 0xe000;
            fseek(w.file, at, SEEK_SET);
        }
        if (sequence) {
            if (!walk(w, ftell(w.file) + long(length), false, depth + 1)) return false;
        } else {
            if (metaGroup && element == 0x0010) {   // Transfer Syntax UID: how the data set is encoded
                std::vector<char> uid(length + 1, 0);
                if (!w.read(uid.data(), length)) return true;
                std::string s(uid.data());
                while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
                w.implicitVR = s == "1.2.840.10008.1.2";
                w.bigEndian = s == "1.2.840.10008.1.2.2";
                if (s == "1.2.840.10008.1.2.1.99") {
                    w.problem = "its data set is deflated (transfer syntax 1.2.840.10008.1.2.1.99), which aimos does not read: inflate it first (gdcmconv --raw)";
                    return false;
                }
                continue;
            }
            fseek(w.file, long(length), SEEK_CUR);
        }
    }
    return true;
}

}  // namespace

int db_check_element_lengths(const char *path, char *problem, size_t problem_size) {
    FILE *file = std::fopen(path, "rb");
    if (!file) return 0;  // GDCM reports what cannot be opened
    Walker w{file, 0};
    std::fseek(file, 0, SEEK_END);
    w.size = std::ftell(file);
    std::fseek(file, 0, SEEK_SET);
    unsigned char preamble[132];
    if (!(w.size >= 132 && w.read(preamble, 132) && std::memcmp(preamble + 128, "DICM", 4) == 0)) {
        // No preamble: an old ACR-NEMA style file; explicit VR if the first element has a VR.
        unsigned char first[6] = {0};
        std::fseek(file, 0, SEEK_SET);
        bool hasVR = w.read(first, 6) && first[4] >= 'A' && first[4] <= 'Z' && first[5] >= 'A' && first[5] <= 'Z';
        std::fseek(file, 0, SEEK_SET);
        w.implicitVR = !hasVR;
    }
    bool ok = walk(w, -1, false, 0);
    std::fclose(file);
    if (!ok) std::snprintf(problem, problem_size, "%s", w.problem.c_str());
    return ok ? 0 : -1;
}
