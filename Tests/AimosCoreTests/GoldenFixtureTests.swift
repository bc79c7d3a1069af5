import Foundation
import XCTest
@testable import AimosCore

/// Parity with the PyTorch reference of the published AIMOS pipeline
/// (aimos-make-golden-fixtures): model inputs after resize and z-score, logits of every
/// member, labels, probabilities and uncertainty on the scan grid. Every case runs on every
/// kernel path this CPU supports (CPUKernelPath.supported: the reference and the own kernels).
final class GoldenFixtureTests: XCTestCase {
    static let tolerance: Float = 1e-4

    struct Golden {
        let file: SafeTensorsFile
        let spec: JSONValue
        let modelFile: SafeTensorsFile
        let volumeBytes: [UInt8]
        let dtype: VoxelVolume.DType
        let dims: [Int]
        let spacing: [Double]

        func floats(_ name: String) throws -> [Float] { try file.floats(file.tensors[name]!) }
    }

    static func fixtureURL(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    static func loadGolden(_ name: String) throws -> Golden {
        let file = try SafeTensorsFile(path: fixtureURL("\(name).golden.safetensors").path)
        let spec = try JSONValue.parse(Array(file.metadata["case"]!.utf8))
        let aimos = spec["aimos"]!
        let modelFile: SafeTensorsFile
        if spec["weights"]?.stringValue == "file" {
            let name = spec["model"]!.stringValue!
            if let derived = try TestWeights.derivedModel(name, base: SafeTensorsFile(path: fixtureURL(TestWeights.derivedBase).path)) {
                modelFile = try SafeTensorsFile(bytes: derived)
            } else {
                modelFile = try SafeTensorsFile(path: fixtureURL(name).path)
            }
        } else {
            let architecture = UNetArchitecture.named(aimos["architecture"]!.stringValue!)!
            let json = try ModelMetadata(json: encode(aimos))
            let bytes = TestWeights.modelFile(architecture: architecture, metadataJSON: encode(aimos),
                                              outputChannels: json.outputChannels)
            modelFile = try SafeTensorsFile(bytes: bytes)
        }
        let dtypes: [String: VoxelVolume.DType] = ["uint8": .uint8, "int16": .int16, "uint16": .uint16,
                                                   "int32": .int32, "float32": .float32, "float64": .float64]
        return Golden(file: file, spec: spec, modelFile: modelFile,
                      volumeBytes: Array(file.rawBytes(file.tensors["volume"]!)),
                      dtype: dtypes[spec["dtype"]!.stringValue!]!,
                      dims: spec["dims"]!.arrayValue!.map { Int($0.int64Value!) },
                      spacing: spec["spacing"]!.arrayValue!.map { if case let .number(d, _) = $0 { return d }; return 0 })
    }

    /// Re-serialises a JSON value (for handing the case's metadata to the model loader).
    static func encode(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(d, isInteger): return isInteger ? String(Int64(d)) : String(d)
        case let .string(s): return TestWeights.jsonString(s)
        case let .array(a): return "[" + a.map(encode).joined(separator: ",") + "]"
        case let .object(o): return "{" + o.map { TestWeights.jsonString($0.0) + ":" + encode($0.1) }.joined(separator: ",") + "}"
        }
    }

    static func assertClose(_ actual: UnsafePointer<Float>, _ expected: [Float], relative: Bool, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        var worst: Float = 0, worstIndex = 0
        for i in 0..<expected.count {
            let scale = relative ? max(1, abs(expected[i])) : 1
            let error = abs(actual[i] - expected[i]) / scale
            if !(error <= worst) { worst = error; worstIndex = i }
        }
        XCTAssert(worst <= tolerance, "\(what): error \(worst) at \(worstIndex) (got \(actual[worstIndex]), want \(expected[worstIndex]))",
                  file: file, line: line)
    }

    func check(_ caseName: String) throws {
        let g = try Self.loadGolden(caseName)
        for path in CPUKernelPath.supported {
            try check(g, name: "\(caseName) [\(path.rawValue) kernels]", model: AimosModel(safetensors: g.modelFile, kernels: path))
        }
    }

    func check(_ g: Golden, name: String, model: AimosModel) throws {
        let axis = Int(g.spec["axis"]!.int64Value!)
        try g.volumeBytes.withUnsafeBytes { raw in
            let volume = try VoxelVolume(data: raw.baseAddress, dtypeRaw: g.dtype.rawValue,
                                         dims: g.dims.map(Int64.init), spacing: g.spacing)
            // Preprocessing and every member's logits on the slices the reference kept.
            let geometry = SliceGeometry(dims: g.dims, axis: axis)
            let processor = try SliceProcessor(model: model, geometry: geometry, keepProbabilities: false)
            let inputs = try g.floats("model_input"), logits = try g.floats("logits")
            let grid = model.metadata.values.inputSize * model.metadata.values.inputSize
            let channels = model.metadata.values.outputChannels
            let logitBuffer = UnsafeMutablePointer<Float>.allocate(capacity: channels * grid)
            defer { logitBuffer.deallocate() }
            for (k, slice) in g.spec["checked_slices"]!.arrayValue!.enumerated() {
                XCTAssertTrue(processor.prepareInput(volume: volume, slice: Int(slice.int64Value!)))
                let expectedInput = Array(inputs[(k * grid)..<((k + 1) * grid)])
                Self.assertClose(processor.input, expectedInput, relative: true, "\(name) model input, slice \(slice)")
                for (m, member) in model.networks.enumerated() {
                    expectedInput.withUnsafeBufferPointer { member.forward(input: $0.baseAddress!, batch: 1, output: logitBuffer, sigmoid: false, workspace: processor.workspace) }
                    let start = (k * model.networks.count + m) * channels * grid
                    Self.assertClose(logitBuffer, Array(logits[start..<(start + channels * grid)]), relative: true,
                                     "\(name) logits, slice \(slice), member \(m)")
                }
            }
            if let flat = g.spec["flat_slice"]?.int64Value {
                XCTAssertFalse(processor.prepareInput(volume: volume, slice: Int(flat)), "slice \(flat) is flat")
            }
            // The whole pipeline, on two workers.
            let result = try model.segment(volume, options: SegmentationOptions(sliceAxis: axis, threads: 2, keepProbabilities: true))
            let expectedLabels = Array(g.file.rawBytes(g.file.tensors["labels"]!))
            let mismatches = (0..<result.voxelCount).filter { result.labels[$0] != expectedLabels[$0] }
            XCTAssertEqual(mismatches.count, 0, "\(name): labels differ at \(mismatches.prefix(5))")
            let probabilities = try g.floats("probabilities")
            for c in 0..<model.classes.count {
                Self.assertClose(result.probabilities[c], Array(probabilities[(c * result.voxelCount)..<((c + 1) * result.voxelCount)]),
                                 relative: false, "\(name) probabilities of class \(c)")
            }
            if model.hasUncertainty {
                Self.assertClose(result.uncertainty!, try g.floats("uncertainty"), relative: false, "\(name) uncertainty")
            } else {
                XCTAssertNil(result.uncertainty)
            }
            // Volumes: an independent count of the reference labels.
            let voxelMM3 = g.spacing.reduce(1, *)
            for c in 0..<model.classes.count {
                let count = expectedLabels.filter { Int($0) == c }.count
                XCTAssertEqual(result.volumeMM3(classIndex: c), Double(count) * voxelMM3, accuracy: 1e-9 * max(1, Double(count)))
            }
        }
    }

    func testUnet64Axis2Int16WithFlatSlice() throws { try check("unet64_axis2_int16") }
    func testUnet64Axis1UInt8() throws { try check("unet64_axis1_uint8") }
    func testUnet64Axis0Float64WithFlatSlice() throws { try check("unet64_axis0_float64") }
    func testUnet64Float16WeightsUInt16() throws { try check("unet64_f16_uint16") }
    func testUnet64BFloat16WeightsInt32() throws { try check("unet64_bf16_int32") }
    func testUnet64EnsembleOfThree() throws { try check("unet64_ensemble3_float32") }
    func testUnet64EnsembleOfTwo() throws { try check("unet64_ensemble2_int16") }
    func testUnet64Uncertainty() throws { try check("unet64_uncertainty_int16") }
    func testUnet64Size256NonSquare() throws { try check("unet64_size256_int16") }
    func testUnet128() throws { try check("unet128_axis2_int16") }
    func testUnet256Axis1() throws { try check("unet256_axis1_float32") }
    func testUnet512Axis0() throws { try check("unet512_axis0_uint16") }
    func testUnet768ElevenClasses() throws { try check("unet768_axis2_int16") }
    func testUnet1024Uncertainty() throws { try check("unet1024_axis2_int16") }

    /// A float64 voxel beyond float32's range is refused, not silently turned into inf.
    func testVoxelsBeyondFloat32RangeAreRefused() {
        var voxels: [Double] = [0, 1, 4e38, 2]
        XCTAssertThrowsError(try voxels.withUnsafeMutableBytes {
            try VoxelVolume(data: $0.baseAddress, dtypeRaw: VoxelVolume.DType.float64.rawValue, dims: [2, 2, 1], spacing: [1, 1, 1])
        }) { XCTAssertTrue("\($0)".contains("(x=0, y=1, z=0)"), "\($0)") }
        XCTAssertThrowsError(try voxels.withUnsafeMutableBytes {
            try VoxelVolume(data: $0.baseAddress, dtypeRaw: 1, dims: [70_000, 1, 1], spacing: [1, 1, 1])
        }) { XCTAssertTrue("\($0)".contains("dims[0] is 70000"), "\($0)") }
    }

    /// The Swift copy of the weight formula matches the Python-written model file.
    func testFormulaWeightsMatchCommittedModelFile() throws {
        let file = try SafeTensorsFile(path: Self.fixtureURL("unet64_c3_s32_f32.safetensors").path)
        let architecture = UNetArchitecture.named("Unet64")!
        for (name, shape) in TestWeights.shapes(architecture, outputChannels: 3) {
            XCTAssertEqual(try file.floats(file.tensors[name]!), TestWeights.tensor(name, shape: shape), name)
        }
    }
}
