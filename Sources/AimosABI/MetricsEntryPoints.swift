import AimosCore
import CAimosHeader

// The C entry point of the paper's metrics (OrganMetrics).

@_cdecl("aimos_compare_labels")
public func aimos_compare_labels(_ prediction: UnsafePointer<UInt8>?, _ reference: UnsafePointer<UInt8>?,
                                 _ dims: UnsafePointer<Int64>?, _ spacing: UnsafePointer<Double>?,
                                 _ metrics: UnsafeMutablePointer<aimos_organ_metrics>?, _ count: Int32) -> aimos_status {
    let function = "aimos_compare_labels"
    guard let prediction = prediction, let reference = reference else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): prediction or reference is NULL")
    }
    guard let dims = dims, let spacing = spacing, let metrics = metrics else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): dims, spacing or metrics is NULL")
    }
    let grid = (0..<3).map { Int(dims[$0]) }, voxel = (0..<3).map { spacing[$0] }
    guard grid.allSatisfy({ (1...VoxelVolume.maxDimension).contains($0) }) else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): dims \(grid) must each be 1...\(VoxelVolume.maxDimension)")
    }
    guard grid.reduce(1, *) <= Int(Int32.max) else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): dims \(grid) hold more than 2^31 voxels")
    }
    guard voxel.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): spacing \(voxel) must be positive and finite")
    }
    guard (1...255).contains(count) else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): count \(count) is not 1...255")
    }
    let stride = Int(metrics.pointee.struct_size), smallest = CallerStruct.size(upTo: \aimos_organ_metrics.volume_error_percent)
    guard stride >= smallest else {
        return LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): metrics[0].struct_size is \(stride), expected at least \(smallest) (0.3's size)")
    }
    let base = UnsafeMutableRawPointer(metrics)
    for k in 1...Int(count) {
        let label = UInt8(k)
        let m = OrganMetrics.compare(dims: grid, spacing: voxel,
                                     prediction: { prediction[$0] == label }, reference: { reference[$0] == label })
        var filled = aimos_organ_metrics()
        filled.struct_size = UInt32(min(stride, MemoryLayout<aimos_organ_metrics>.size))
        filled.label = Int32(k)
        filled.dice = m.dice
        filled.hd50_mm = m.hd50MM
        filled.hd95_mm = m.hd95MM
        filled.center_of_mass_mm = m.centerOfMassMM
        filled.volume_reference_mm3 = m.referenceMM3
        filled.volume_prediction_mm3 = m.predictionMM3
        filled.volume_error_percent = m.volumeErrorPercent
        CallerStruct.write(filled, to: base + (k - 1) * stride, size: stride)
    }
    return AIMOS_OK
}
