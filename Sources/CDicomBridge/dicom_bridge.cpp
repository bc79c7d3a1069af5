// dicom_bridge.cpp - DICOM series through GDCM: scan a folder into series, sort and check one
// series' planes, decode its pixels (every transfer syntax GDCM decodes: uncompressed, RLE, JPEG
// baseline and lossless, JPEG-LS, JPEG 2000). GDCM is C++ and throws; nothing escapes this file
// but a status and a message.
#include "dicom_bridge.h"
#include "element_lengths.h"

#include <gdcmAttribute.h>
#include <gdcmDirectory.h>
#include <gdcmExplicitDataElement.h>
#include <gdcmImplicitDataElement.h>
#include <gdcmImageReader.h>
#include <gdcmReader.h>
#include <gdcmScanner.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTrace.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace {

const gdcm::Tag kSOPClass(0x0008, 0x0016), kModality(0x0008, 0x0060), kSeriesDescription(0x0008, 0x103e),
    kSliceThickness(0x0018, 0x0050), kSpacingBetweenSlices(0x0018, 0x0088), kPatientPosition(0x0018, 0x5100),
    kSeriesUID(0x0020, 0x000e), kPosition(0x0020, 0x0032), kOrientation(0x0020, 0x0037),
    kPlanePositionSequence(0x0020, 0x9113), kPlaneOrientationSequence(0x0020, 0x9116),
    kNumberOfFrames(0x0028, 0x0008), kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011), kPixelSpacing(0x0028, 0x0030),
    kRescaleIntercept(0x0028, 0x1052), kRescaleSlope(0x0028, 0x1053), kRescaleType(0x0028, 0x1054),
    kPixelMeasuresSequence(0x0028, 0x9110), kValueTransformationSequence(0x0028, 0x9145),
    kUnits(0x0054, 0x1001), kDecayCorrection(0x0054, 0x1102), kSharedGroups(0x5200, 0x9229),
    kPerFrameGroups(0x5200, 0x9230), kFirstPixelTag(0x7fe0, 0x0008);

// One 2D plane of a series: a classic file, or one frame of a multi-frame file.
struct Plane {
    size_t file;
    unsigned frame;  // 0-based
    double position[3];
    double along;    // position along the slice normal
    double intercept, slope;
};

struct Series {
    std::string uid, description, modality;
    std::vector<std::string> files;
    std::vector<Plane> planes;  // sorted by db_prepare
    unsigned columns = 0, rows = 0;
    bool compressed = false;  // any file's pixel data encapsulated (compressed)
};

void fail(char *err, size_t size, const std::string &message) {
    if (err && size) std::snprintf(err, size, "%s", message.c_str());
}

std::string trimmed(std::string s) {
    const char *blank = " \t\r\n";
    while (!s.empty() && (s.back() == '\0' || std::strchr(blank, s.back()))) s.pop_back();
    size_t start = s.find_first_not_of(blank);
    return start == std::string::npos ? "" : s.substr(start);
}

// A text attribute (CS, LO, UI, DS, IS...) as stored, trimmed; "" when absent.
std::string text(const gdcm::DataSet &ds, const gdcm::Tag &tag) {
    if (!ds.FindDataElement(tag)) return "";
    const gdcm::ByteValue *value = ds.GetDataElement(tag).GetByteValue();
    if (!value || !value->GetPointer()) return "";
    return trimmed(std::string(value->GetPointer(), value->GetLength()));
}

// A DS/IS attribute's backslash-separated numbers; empty when absent or not all numbers.
std::vector<double> numbers(const gdcm::DataSet &ds, const gdcm::Tag &tag) {
    std::string s = text(ds, tag);
    std::vector<double> values;
    size_t start = 0;
    while (!s.empty() && start <= s.size()) {
        size_t end = s.find('\\', start);
        std::string part = trimmed(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        char *stop = nullptr;
        double v = std::strtod(part.c_str(), &stop);
        if (part.empty() || *stop != '\0' || !std::isfinite(v)) return {};
        values.push_back(v);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return values;
}

// Item `index` (1-based) of a sequence, copied out (the sequence may be a temporary of GDCM's).
bool item(const gdcm::DataSet &ds, const gdcm::Tag &sequence, size_t index, gdcm::DataSet &out) {
    if (!ds.FindDataElement(sequence)) return false;
    gdcm::SmartPointer<gdcm::SequenceOfItems> items = ds.GetDataElement(sequence).GetValueAsSQ();
    if (!items || items->GetNumberOfItems() < index) return false;
    out = items->GetItem(index).GetNestedDataSet();
    return true;
}

// An attribute of frame `frame` (1-based) of an enhanced multi-frame file: the per-frame
// functional group, else the shared one, else the top level (where a classic file has it).
std::vector<double> frameNumbers(const gdcm::DataSet &top, unsigned frame, const gdcm::Tag &group, const gdcm::Tag &tag) {
    gdcm::DataSet groups, macro;
    if (item(top, kPerFrameGroups, frame, groups) && item(groups, group, 1, macro)) {
        std::vector<double> v = numbers(macro, tag);
        if (!v.empty()) return v;
    }
    if (item(top, kSharedGroups, 1, groups) && item(groups, group, 1, macro)) {
        std::vector<double> v = numbers(macro, tag);
        if (!v.empty()) return v;
    }
    return numbers(top, tag);
}

unsigned short unsignedShort(const gdcm::DataSet &ds, const gdcm::Tag &tag) {
    if (!ds.FindDataElement(tag)) return 0;
    gdcm::Element<gdcm::VR::US, gdcm::VM::VM1> value;
    value.SetFromDataElement(ds.GetDataElement(tag));
    return value.GetValue();
}

std::string baseName(const std::string &path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string mm(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g mm", x);
    return buffer;
}

void copyField(char *field, size_t size, const std::string &value) { std::snprintf(field, size, "%s", value.c_str()); }

// GDCM prints its own warnings and errors on stderr; aimos reports through its messages.
void quietGDCM() {
    gdcm::Trace::WarningOff();
    gdcm::Trace::ErrorOff();
    gdcm::Trace::DebugOff();
}

bool hasPreamble(const std::string &path) {
    FILE *file = std::fopen(path.c_str(), "rb");
    if (!file) return false;
    unsigned char head[132];
    bool found = std::fread(head, 1, 132, file) == 132 && std::memcmp(head + 128, "DICM", 4) == 0;
    std::fclose(file);
    return found;
}

bool naturalLess(const std::string &a, const std::string &b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit((unsigned char)a[i]) && std::isdigit((unsigned char)b[j])) {
            size_t i2 = i, j2 = j;
            while (i2 < a.size() && std::isdigit((unsigned char)a[i2])) i2++;
            while (j2 < b.size() && std::isdigit((unsigned char)b[j2])) j2++;
            std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
            na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
            nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = i2, j = j2;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            i++, j++;
        }
    }
    return a.size() - i < b.size() - j;
}

// Reads the headers of a series' files into planes; checks that they form one plane geometry.
bool readPlanes(Series &series, double orientation[6], double spacing[2], double &fallbackStep, std::string &message) {
    series.planes.clear();
    series.compressed = false;
    bool first = true;
    for (size_t f = 0; f < series.files.size(); f++) {
        const std::string &path = series.files[f];
        gdcm::Reader reader;
        reader.SetFileName(path.c_str());
        if (!reader.ReadUpToTag(kFirstPixelTag)) {
            message = "cannot read the DICOM header of '" + baseName(path) + "'";
            return false;
        }
        const gdcm::DataSet &ds = reader.GetFile().GetDataSet();
        if (reader.GetFile().GetHeader().GetDataSetTransferSyntax().IsEncapsulated()) series.compressed = true;
        unsigned rows = unsignedShort(ds, kRows), columns = unsignedShort(ds, kColumns);
        std::vector<double> frameCount = numbers(ds, kNumberOfFrames);
        double frames = frameCount.empty() ? 1 : frameCount[0];
        if (rows == 0 || columns == 0 || frames < 1 || frames > 65535 || frames != std::floor(frames)) {
            message = "'" + baseName(path) + "' has " + std::to_string(rows) + " rows, " + std::to_string(columns) +
                      " columns and " + std::to_string(frames) + " frames";
            return false;
        }
        if (first) {
            series.rows = rows, series.columns = columns;
        } else if (rows != series.rows || columns != series.columns) {
            message = "'" + baseName(path) + "' is " + std::to_string(columns) + " x " + std::to_string(rows) +
                      " pixels, the series' first file " + std::to_string(series.columns) + " x " + std::to_string(series.rows) +
                      "; a series' planes must be one size";
            return false;
        }
        if (first) {
            std::vector<double> thickness = numbers(ds, kSpacingBetweenSlices);
            if (thickness.empty()) thickness = frameNumbers(ds, 1, kPixelMeasuresSequence, kSliceThickness);
            fallbackStep = thickness.empty() || !(thickness[0] > 0) ? 0 : thickness[0];
        }
        for (unsigned frame = 1; frame <= (unsigned)frames; frame++) {
            std::vector<double> p = frameNumbers(ds, frame, kPlanePositionSequence, kPosition);
            std::vector<double> o = frameNumbers(ds, frame, kPlaneOrientationSequence, kOrientation);
            std::vector<double> s = frameNumbers(ds, frame, kPixelMeasuresSequence, kPixelSpacing);
            std::string where = "'" + baseName(path) + "'" + (frames > 1 ? " frame " + std::to_string(frame) : "");
            if (p.size() != 3 || o.size() != 6) {
                message = where + " has no Image Position/Orientation (Patient): without them a plane has no place in the volume";
                return false;
            }
            if (s.size() != 2 || !(s[0] > 0) || !(s[1] > 0)) {
                message = where + " has no valid Pixel Spacing (0028,0030)";
                return false;
            }
            std::vector<double> intercept = frameNumbers(ds, frame, kValueTransformationSequence, kRescaleIntercept);
            std::vector<double> slope = frameNumbers(ds, frame, kValueTransformationSequence, kRescaleSlope);
            Plane plane{f, frame - 1, {p[0], p[1], p[2]}, 0, intercept.empty() ? 0 : intercept[0], slope.empty() ? 1 : slope[0]};
            if (plane.slope == 0) {
                message = where + " has Rescale Slope 0";
                return false;
            }
            if (first) {
                std::copy(o.begin(), o.end(), orientation);
                spacing[0] = s[0], spacing[1] = s[1];
                first = false;
            } else {
                for (int k = 0; k < 6; k++) {
                    if (std::fabs(o[k] - orientation[k]) > 1e-4) {
                        message = where + " is oriented differently from the series' first plane; aimos reads one stack of parallel planes";
                        return false;
                    }
                }
                if (std::fabs(s[0] - spacing[0]) > 1e-5 * spacing[0] || std::fabs(s[1] - spacing[1]) > 1e-5 * spacing[1]) {
                    message = where + " has another Pixel Spacing than the series' first plane";
                    return false;
                }
            }
            series.planes.push_back(plane);
        }
    }
    return true;
}

}  // namespace

struct db_source {
    std::vector<Series> series;
};

extern "C" db_source *db_open(const char *path, char *err, size_t err_size) {
    quietGDCM();
    try {
        struct stat info;
        if (!path || stat(path, &info) != 0) {
            fail(err, err_size, std::string("cannot open '") + (path ? path : "(null)") + "'");
            return nullptr;
        }
        std::vector<std::string> files;
        if (S_ISDIR(info.st_mode)) {
            gdcm::Directory directory;
            directory.Load(path, false);
            files = directory.GetFilenames();
        } else {
            files.push_back(path);
        }
        std::sort(files.begin(), files.end(), naturalLess);
        // Every element length checked against the file before GDCM reads it. A file with the
        // DICOM preamble that fails is refused; one without (not DICOM, or old ACR-NEMA) is
        // left out, unless it was named alone.
        std::vector<std::string> checked;
        for (const std::string &file : files) {
            char problem[256] = "";
            if (db_check_element_lengths(file.c_str(), problem, sizeof problem) == 0) {
                checked.push_back(file);
                continue;
            }
            if (!S_ISDIR(info.st_mode) || hasPreamble(file)) {
                fail(err, err_size, "'" + baseName(file) + "' is not a well-formed DICOM file: " + problem);
                return nullptr;
            }
        }
        files = checked;
        gdcm::Scanner scanner;
        for (const gdcm::Tag &tag : {kSOPClass, kModality, kSeriesDescription, kSeriesUID, kRows}) scanner.AddTag(tag);
        if (!scanner.Scan(files)) {
            fail(err, err_size, std::string("cannot scan '") + path + "' for DICOM files");
            return nullptr;
        }
        auto source = new db_source;
        std::map<std::string, size_t> index;
        for (const std::string &file : files) {
            if (!scanner.IsKey(file.c_str())) continue;  // not DICOM
            const char *uid = scanner.GetValue(file.c_str(), kSeriesUID);
            const char *rows = scanner.GetValue(file.c_str(), kRows);
            if (!uid || !rows || !*uid) continue;         // DICOMDIR, structured reports, ...: no image
            std::string key = trimmed(uid);
            auto found = index.find(key);
            if (found == index.end()) {
                found = index.emplace(key, source->series.size()).first;
                Series series;
                series.uid = key;
                const char *d = scanner.GetValue(file.c_str(), kSeriesDescription);
                const char *m = scanner.GetValue(file.c_str(), kModality);
                series.description = d ? trimmed(d) : "";
                series.modality = m ? trimmed(m) : "";
                source->series.push_back(series);
            }
            source->series[found->second].files.push_back(file);
        }
        if (source->series.empty()) {
            delete source;
            fail(err, err_size, std::string("'") + path + "' holds no DICOM image file");
            return nullptr;
        }
        return source;
    } catch (const std::exception &e) {
        fail(err, err_size, std::string("reading DICOM from '") + (path ? path : "") + "' failed: " + e.what());
    } catch (...) {
        fail(err, err_size, std::string("reading DICOM from '") + (path ? path : "") + "' failed");
    }
    return nullptr;
}

extern "C" void db_close(db_source *source) { delete source; }

extern "C" int db_series_count(const db_source *source) { return source ? (int)source->series.size() : 0; }

static const Series *seriesAt(const db_source *source, int s) {
    return source && s >= 0 && (size_t)s < source->series.size() ? &source->series[s] : nullptr;
}

static Series *seriesAt(db_source *source, int s) {
    return const_cast<Series *>(seriesAt(static_cast<const db_source *>(source), s));
}

extern "C" const char *db_series_uid(const db_source *source, int s) {
    const Series *series = seriesAt(source, s);
    return series ? series->uid.c_str() : "";
}

extern "C" const char *db_series_description(const db_source *source, int s) {
    const Series *series = seriesAt(source, s);
    return series ? series->description.c_str() : "";
}

extern "C" const char *db_series_modality(const db_source *source, int s) {
    const Series *series = seriesAt(source, s);
    return series ? series->modality.c_str() : "";
}

extern "C" int db_series_file_count(const db_source *source, int s) {
    const Series *series = seriesAt(source, s);
    return series ? (int)series->files.size() : 0;
}

extern "C" int db_prepare(db_source *source, int s, db_geometry *geometry, char *err, size_t err_size) {
    quietGDCM();
    Series *series = seriesAt(source, s);
    if (!series || !geometry) {
        fail(err, err_size, "no such DICOM series");
        return -1;
    }
    try {
        double o[6], spacing[2], fallbackStep = 0;
        std::string message;
        if (!readPlanes(*series, o, spacing, fallbackStep, message)) {
            fail(err, err_size, message);
            return -1;
        }
        // Rows run along the first direction cosine, columns along the second; the normal is
        // their cross product, and planes are sorted by their position along it.
        double row[3] = {o[0], o[1], o[2]}, col[3] = {o[3], o[4], o[5]};
        double rn = std::sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]);
        double cn = std::sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
        double dot = (row[0] * col[0] + row[1] * col[1] + row[2] * col[2]) / (rn * cn);
        if (!(rn > 0.99 && rn < 1.01 && cn > 0.99 && cn < 1.01) || std::fabs(dot) > 1e-3) {
            fail(err, err_size, "Image Orientation (Patient) is not two perpendicular unit vectors");
            return -1;
        }
        for (int k = 0; k < 3; k++) row[k] /= rn, col[k] /= cn;
        double normal[3] = {row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]};
        std::vector<Plane> &planes = series->planes;
        for (Plane &p : planes) p.along = p.position[0] * normal[0] + p.position[1] * normal[1] + p.position[2] * normal[2];
        std::stable_sort(planes.begin(), planes.end(), [](const Plane &a, const Plane &b) { return a.along < b.along; });
        size_t n = planes.size();
        auto name = [&](const Plane &p) {
            return "'" + baseName(series->files[p.file]) + "'" + (series->planes.size() > series->files.size() ? " frame " + std::to_string(p.frame + 1) : "");
        };
        double step[3] = {normal[0] * fallbackStep, normal[1] * fallbackStep, normal[2] * fallbackStep};
        if (n >= 2) {
            std::vector<double> gaps;
            for (size_t k = 0; k + 1 < n; k++) gaps.push_back(planes[k + 1].along - planes[k].along);
            std::vector<double> sorted = gaps;
            std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
            double typical = sorted[sorted.size() / 2];
            for (size_t k = 0; k + 1 < n; k++) {
                if (gaps[k] <= std::max(1e-4, 1e-3 * typical)) {
                    fail(err, err_size, name(planes[k]) + " and " + name(planes[k + 1]) +
                         " lie at the same position; one series must be one stack of planes (several echoes, time frames or acquisitions: pick one)");
                    return -1;
                }
            }
            for (size_t k = 0; k + 1 < n; k++) {
                if (gaps[k] > 1.5 * typical) {
                    fail(err, err_size, "a plane is missing between " + name(planes[k]) + " and " + name(planes[k + 1]) + ": they are " +
                         mm(gaps[k]) + " apart, the others " + mm(typical) + "; aimos does not fill in missing planes");
                    return -1;
                }
                if (std::fabs(gaps[k] - typical) > 0.01 * typical) {
                    fail(err, err_size, "the planes are unevenly spaced: " + name(planes[k]) + " and " + name(planes[k + 1]) + " are " +
                         mm(gaps[k]) + " apart, the others " + mm(typical) + "; aimos reads evenly spaced planes only");
                    return -1;
                }
            }
            // The step from the first plane to the last: with a gantry tilt it is not along the
            // normal, which the affine represents; every plane must still lie on that line.
            for (int k = 0; k < 3; k++) step[k] = (planes[n - 1].position[k] - planes[0].position[k]) / double(n - 1);
            for (size_t k = 0; k < n; k++) {
                double off = 0;
                for (int a = 0; a < 3; a++) {
                    double d = planes[k].position[a] - (planes[0].position[a] + double(k) * step[a]);
                    off += d * d;
                }
                if (std::sqrt(off) > 0.01 * typical + 1e-3) {
                    fail(err, err_size, name(planes[k]) + " is " + mm(std::sqrt(off)) + " off the line through the first and last planes; aimos reads one straight stack of planes");
                    return -1;
                }
            }
        } else if (fallbackStep == 0) {
            for (int k = 0; k < 3; k++) step[k] = normal[k] * spacing[0];
        }
        // Voxel (i, j, k) -> LPS: i along the row direction by the column spacing
        // (Pixel Spacing's second value), j along the column direction by the row spacing.
        double *m = geometry->affine_lps;
        for (int r = 0; r < 3; r++) {
            m[4 * r + 0] = row[r] * spacing[1];
            m[4 * r + 1] = col[r] * spacing[0];
            m[4 * r + 2] = step[r];
            m[4 * r + 3] = planes[0].position[r];
        }
        m[12] = m[13] = m[14] = 0, m[15] = 1;
        // What the header claims against what the files hold, before the volume is allocated:
        // uncompressed, every voxel takes a byte at least; lossless compression of a scan stays
        // far below 20000:1 (a plane of zeros in JPEG-LS: about 3000:1), so a compressed claim
        // beyond that (and beyond 64 MiB) is a hostile or broken header.
        double fileBytes = 0;
        for (const std::string &file : series->files) {
            struct stat info;
            if (stat(file.c_str(), &info) == 0) fileBytes += double(info.st_size);
        }
        double claimed = 4.0 * series->columns * series->rows * double(n);
        double voxels = claimed / 4;
        if (series->compressed ? claimed > 20000.0 * fileBytes + 64.0 * 1024 * 1024 : voxels > fileBytes) {
            fail(err, err_size, "the headers claim " + std::to_string(series->columns) + " x " + std::to_string(series->rows) + " x " +
                 std::to_string(n) + " voxels, far more than " + std::to_string((long long)fileBytes) + " bytes of files can hold");
            return -1;
        }
        geometry->dims[0] = series->columns, geometry->dims[1] = series->rows, geometry->dims[2] = (int64_t)n;
        geometry->planes_per_file = (int32_t)((n + series->files.size() - 1) / series->files.size());
        geometry->per_plane_rescale = 0;
        for (const Plane &p : planes) {
            if (p.slope != planes[0].slope || p.intercept != planes[0].intercept) geometry->per_plane_rescale = 1;
        }
        // Text attributes that the organ table echoes, from the first file.
        gdcm::Reader reader;
        reader.SetFileName(series->files[planes[0].file].c_str());
        if (!reader.ReadUpToTag(kFirstPixelTag)) {
            fail(err, err_size, "cannot read the DICOM header of '" + baseName(series->files[planes[0].file]) + "'");
            return -1;
        }
        const gdcm::DataSet &ds = reader.GetFile().GetDataSet();
        copyField(geometry->modality, sizeof geometry->modality, series->modality);
        copyField(geometry->units, sizeof geometry->units, text(ds, kUnits));
        copyField(geometry->decay_correction, sizeof geometry->decay_correction, text(ds, kDecayCorrection));
        copyField(geometry->rescale_type, sizeof geometry->rescale_type, text(ds, kRescaleType));
        copyField(geometry->patient_position, sizeof geometry->patient_position, text(ds, kPatientPosition));
        const char *syntax = reader.GetFile().GetHeader().GetDataSetTransferSyntax().GetString();
        copyField(geometry->transfer_syntax, sizeof geometry->transfer_syntax, syntax ? syntax : "");
        return 0;
    } catch (const std::exception &e) {
        fail(err, err_size, std::string("reading the DICOM series failed: ") + e.what());
    } catch (...) {
        fail(err, err_size, "reading the DICOM series failed");
    }
    return -1;
}

namespace {

// Stored value i of a decoded buffer as a double: the pixel format's type, the bits above
// Bits Stored masked off and the sign extended for signed data.
template <typename T> double storedValue(const char *buffer, size_t i, unsigned bitsStored, bool isSigned) {
    T raw;
    std::memcpy(&raw, buffer + i * sizeof(T), sizeof(T));
    if constexpr (std::is_integral_v<T>) {
        if (bitsStored > 0 && bitsStored < 8 * sizeof(T)) {
            uint64_t mask = (uint64_t(1) << bitsStored) - 1;
            uint64_t bits = uint64_t(raw) & mask;
            if (isSigned && (bits >> (bitsStored - 1)) & 1) return double(int64_t(bits) - int64_t(mask) - 1);
            return double(bits);
        }
        if (isSigned) return double(std::make_signed_t<T>(raw));
    }
    return double(raw);
}

}  // namespace

extern "C" int db_read_voxels(db_source *source, int s, float *out, int64_t count, char *err, size_t err_size) {
    quietGDCM();
    Series *series = seriesAt(source, s);
    if (!series || series->planes.empty()) {
        fail(err, err_size, "no prepared DICOM series");
        return -1;
    }
    const size_t planeSize = size_t(series->columns) * series->rows;
    if (out && count != int64_t(planeSize * series->planes.size())) {
        fail(err, err_size, "the voxel buffer does not match the series");
        return -1;
    }
    try {
        // Each file decoded once, its planes put where the sort placed them.
        std::map<size_t, std::vector<size_t>> planesOfFile;
        for (size_t k = 0; k < series->planes.size(); k++) planesOfFile[series->planes[k].file].push_back(k);
        for (const auto &[file, positions] : planesOfFile) {
            const std::string &path = series->files[file];
            gdcm::ImageReader reader;
            reader.SetFileName(path.c_str());
            if (!reader.Read()) {
                fail(err, err_size, "cannot read the pixel data of '" + baseName(path) + "'");
                return -1;
            }
            const gdcm::Image &image = reader.GetImage();
            const gdcm::PixelFormat &format = image.GetPixelFormat();
            if (format.GetSamplesPerPixel() != 1) {
                fail(err, err_size, "'" + baseName(path) + "' is a colour image (" + std::to_string(format.GetSamplesPerPixel()) +
                     " samples per pixel); aimos reads greyscale scans");
                return -2;
            }
            unsigned frames = image.GetNumberOfDimensions() >= 3 ? image.GetDimension(2) : 1;
            if (image.GetDimension(0) != series->columns || image.GetDimension(1) != series->rows) {
                fail(err, err_size, "'" + baseName(path) + "': the pixel data's size differs from its header's");
                return -1;
            }
            size_t bytes = 0;
            switch (format.GetScalarType()) {
                case gdcm::PixelFormat::UINT8: case gdcm::PixelFormat::INT8: bytes = 1; break;
                case gdcm::PixelFormat::UINT16: case gdcm::PixelFormat::INT16: bytes = 2; break;
                case gdcm::PixelFormat::UINT32: case gdcm::PixelFormat::INT32: case gdcm::PixelFormat::FLOAT32: bytes = 4; break;
                case gdcm::PixelFormat::FLOAT64: bytes = 8; break;
                default:
                    fail(err, err_size, "'" + baseName(path) + "' has " + std::to_string(format.GetBitsAllocated()) +
                         "-bit pixels; aimos reads 8-, 16- and 32-bit integers and 32/64-bit floats");
                    return -2;
            }
            // Uncompressed pixel data must be as long as the header says (GDCM pads a short one),
            // and cannot be longer than its file: a header claiming more is refused before the
            // buffer is made.
            if (!reader.GetFile().GetHeader().GetDataSetTransferSyntax().IsEncapsulated()) {
                const gdcm::DataSet &ds = reader.GetFile().GetDataSet();
                const gdcm::Tag pixels = ds.FindDataElement(gdcm::Tag(0x7fe0, 0x0010)) ? gdcm::Tag(0x7fe0, 0x0010)
                                       : ds.FindDataElement(gdcm::Tag(0x7fe0, 0x0008)) ? gdcm::Tag(0x7fe0, 0x0008) : gdcm::Tag(0x7fe0, 0x0009);
                const gdcm::ByteValue *value = ds.FindDataElement(pixels) ? ds.GetDataElement(pixels).GetByteValue() : nullptr;
                size_t need = bytes * planeSize * frames;
                if (!value || (size_t)value->GetLength() < need) {
                    fail(err, err_size, "'" + baseName(path) + "' holds " + std::to_string(value ? (unsigned long)value->GetLength() : 0UL) +
                         " bytes of pixel data, its header's " + std::to_string(frames) + " plane(s) of " + std::to_string(series->columns) +
                         " x " + std::to_string(series->rows) + " need " + std::to_string(need) + " (a truncated file?)");
                    return -1;
                }
                // A file cut short: GDCM pads the missing pixel bytes and reads on; what its
                // elements encode to (preamble, meta header, data set) is longer than the file.
                const gdcm::File &file = reader.GetFile();
                bool implicit = file.GetHeader().GetDataSetTransferSyntax().GetNegociatedType() == gdcm::TransferSyntax::Implicit;
                unsigned long encoded = (hasPreamble(path) ? 132 : 0) + (unsigned long)file.GetHeader().GetLength<gdcm::ExplicitDataElement>() +
                    (unsigned long)(implicit ? file.GetDataSet().GetLength<gdcm::ImplicitDataElement>()
                                             : file.GetDataSet().GetLength<gdcm::ExplicitDataElement>());
                struct stat info;
                if (stat(path.c_str(), &info) == 0 && (unsigned long)info.st_size < encoded) {
                    fail(err, err_size, "'" + baseName(path) + "' is truncated: its elements need " + std::to_string(encoded) +
                         " bytes, the file holds " + std::to_string(info.st_size) + " (pixel data cut short)");
                    return -1;
                }
            }
            std::vector<char> buffer(image.GetBufferLength());
            if (buffer.size() < bytes * planeSize * frames || !image.GetBuffer(buffer.data())) {
                const char *syntax = reader.GetFile().GetHeader().GetDataSetTransferSyntax().GetString();
                fail(err, err_size, "cannot decode the pixel data of '" + baseName(path) + "' (transfer syntax " + (syntax ? syntax : "unknown") + ")");
                return -1;
            }
            unsigned stored = format.GetBitsStored();
            bool isSigned = format.GetPixelRepresentation() == 1;
            for (size_t k : positions) {
                if (!out) break;   // a trial read: decoded, not converted
                const Plane &plane = series->planes[k];
                if (plane.frame >= frames) {
                    fail(err, err_size, "'" + baseName(path) + "' holds " + std::to_string(frames) + " frames, its header more");
                    return -1;
                }
                const char *src = buffer.data() + size_t(plane.frame) * planeSize * bytes;
                float *dst = out + k * planeSize;
                for (size_t i = 0; i < planeSize; i++) {
                    double v = 0;
                    switch (format.GetScalarType()) {
                        case gdcm::PixelFormat::UINT8: v = storedValue<uint8_t>(src, i, stored, false); break;
                        case gdcm::PixelFormat::INT8: v = storedValue<int8_t>(src, i, 0, true); break;
                        case gdcm::PixelFormat::UINT16: v = storedValue<uint16_t>(src, i, stored, false); break;
                        case gdcm::PixelFormat::INT16: v = storedValue<uint16_t>(src, i, stored, isSigned); break;
                        case gdcm::PixelFormat::UINT32: v = storedValue<uint32_t>(src, i, stored, false); break;
                        case gdcm::PixelFormat::INT32: v = storedValue<uint32_t>(src, i, stored, isSigned); break;
                        case gdcm::PixelFormat::FLOAT32: v = storedValue<float>(src, i, 0, false); break;
                        default: v = storedValue<double>(src, i, 0, false); break;
                    }
                    dst[i] = float(v * plane.slope + plane.intercept);
                }
            }
        }
        return 0;
    } catch (const std::exception &e) {
        fail(err, err_size, std::string("decoding the DICOM series failed: ") + e.what());
    } catch (...) {
        fail(err, err_size, "decoding the DICOM series failed");
    }
    return -1;
}

extern "C" int db_trial_read(const char *path, const char *series_uid, char *err, size_t err_size) {
    // GDCM is built with assertions in Debian and aborts the process on some malformed files
    // (the fuzzer found several). The whole read runs first in a child process; only when that
    // child did not crash does the caller read in its own process. The child's own errors are
    // not reported from here: the caller's read meets them again and reports them. The child
    // says how it ended through a pipe (one byte), so a host that reaps its children itself
    // (SIGCHLD ignored) cannot hide a crash.
    int pipeline[2];
    if (pipe(pipeline) != 0) return 0;  // no descriptors to spare: read in-process as before
    std::fflush(nullptr);
    pid_t child = fork();
    if (child < 0) {
        close(pipeline[0]), close(pipeline[1]);
        return 0;                        // no process to spare: read in-process as before
    }
    if (child == 0) {
        close(pipeline[0]);
        // The default action for a crash, not the host's handler (a JVM's, a sanitizer's): the
        // parent is to see the signal. A read that hangs is ended after 10 minutes. GDCM's
        // assertion messages are not the caller's to see.
        for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM}) signal(sig, SIG_DFL);
        alarm(600);
        int quiet = open("/dev/null", O_WRONLY);
        if (quiet >= 0) dup2(quiet, 2);
        char ended = '1';
        char message[1024];
        db_source *source = db_open(path, message, sizeof message);
        if (source) {
            int chosen = -1;
            for (int s = 0; s < db_series_count(source); s++) {
                if (series_uid ? std::strcmp(db_series_uid(source, s), series_uid) == 0 : db_series_count(source) == 1) chosen = s;
            }
            db_geometry geometry;
            if (chosen >= 0 && db_prepare(source, chosen, &geometry, message, sizeof message) == 0 &&
                db_read_voxels(source, chosen, nullptr, 0, message, sizeof message) == 0)
                ended = '0';
            db_close(source);
        }
        ssize_t written = write(pipeline[1], &ended, 1);
        _exit(written == 1 ? 0 : 1);
    }
    close(pipeline[1]);
    char ended = 0;
    ssize_t got;
    while ((got = read(pipeline[0], &ended, 1)) < 0 && errno == EINTR) {}
    close(pipeline[0]);
    int status = 0;
    pid_t reaped;
    while ((reaped = waitpid(child, &status, 0)) < 0 && errno == EINTR) {}
    if (got == 1) return 0;  // '0' read, '1' an ordinary error the caller's read reports
    std::string how = reaped == child && WIFSIGNALED(status) ? (WTERMSIG(status) == SIGALRM ? "it ran over 10 minutes" : "signal " + std::to_string(WTERMSIG(status)))
                                                              : "it ended without a word";
    fail(err, err_size, std::string("GDCM crashed (") + how + ") reading '" + path +
         "': a malformed DICOM file; aimos did not read it in its own process");
    return -1;
}
