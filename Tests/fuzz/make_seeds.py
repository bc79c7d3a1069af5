"""Writes the fuzzers' seed corpora, Tests/fuzz/corpus/{model,metadata,nifti,dicom,tiff}/, from the cases
of untrusted_cases.py (the valid model itself, 398 KB, is handed to the model fuzzer from its
fixture instead of being copied). Regenerate with:  python3 Tests/fuzz/make_seeds.py
"""
import shutil
from pathlib import Path

import untrusted_cases as cases

CORPUS = Path(__file__).resolve().parent / "corpus"


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    for target in ("model", "metadata", "nifti", "dicom", "tiff"):
        (CORPUS / target).mkdir(parents=True)
    for name, data, _, _ in cases.model_cases():
        if name != "valid" and len(data) < 100_000:  # the mutator works best on small seeds
            (CORPUS / "model" / name).write_bytes(data)
        elif name != "valid":  # large cases: the header (6 KB) and the start of the data, still hostile
            (CORPUS / "model" / name).write_bytes(data[:12_288])
    for name, data in cases.metadata_cases():
        (CORPUS / "metadata" / name).write_bytes(data)
    for name, data, _, _, _ in cases.nifti_cases():
        (CORPUS / "nifti" / name).write_bytes(data)
    for name, data, _, _ in cases.dicom_cases():
        (CORPUS / "dicom" / name).write_bytes(data)
    for name, data, _, _ in cases.tiff_cases():
        (CORPUS / "tiff" / name).write_bytes(data)
    for target in ("model", "metadata", "nifti", "dicom", "tiff"):
        files = list((CORPUS / target).iterdir())
        print(f"{target}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
