#if canImport(Glibc)
import Glibc
#endif
import AimosCore
import CAimosHeader

/// The live handles handed out through the C ABI. A handle is a token from a counter, never
/// reused (an object's address would be: a freed handle could then name a new object); looking
/// it up here (under a lock) turns a freed or foreign pointer into a clean error instead of a
/// crash, and hands the caller a strong reference, so a model freed on one thread stays alive
/// until segmentations running on others have finished.
final class HandleRegistry {
    static let shared = HandleRegistry()
    private var mutex = pthread_mutex_t()
    private var live: [UInt: AnyObject] = [:]
    /// Tokens start high and step by 16, so they look like aligned pointers and never 0.
    private var nextToken: UInt = 0x0A10_0000

    private init() { pthread_mutex_init(&mutex, nil) }

    func register(_ object: AnyObject) -> OpaquePointer {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        nextToken += 16
        live[nextToken] = object
        return OpaquePointer(bitPattern: nextToken)!
    }

    func lookup<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> T? {
        guard let handle = handle else { return nil }
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return live[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))] as? T
    }

    /// Forgets a handle if it is live and a `T`; false otherwise.
    @discardableResult
    func remove<T: AnyObject>(_ handle: UnsafeMutableRawPointer?, ifA type: T.Type) -> Bool {
        guard let handle = handle else { return false }
        let key = UInt(bitPattern: Int(bitPattern: handle))
        pthread_mutex_lock(&mutex)
        let object = live[key] is T ? live.removeValue(forKey: key) : nil
        pthread_mutex_unlock(&mutex)
        return object != nil  // released here, outside the lock
    }

    /// Forgets a handle; false if it was not live.
    @discardableResult
    func remove(_ handle: UnsafeMutableRawPointer?) -> Bool {
        remove(handle, ifA: AnyObject.self)
    }
}

/// What an aimos_model handle points to: the model and its class names as C strings.
final class ModelHandle {
    let model: AimosModel
    let classNames: [UnsafeMutablePointer<CChar>]

    /// Throws AIMOS_ERROR_OUT_OF_MEMORY (rather than trapping) when a name cannot be copied.
    init(model: AimosModel) throws {
        var names: [UnsafeMutablePointer<CChar>] = []
        for name in model.classes {
            guard let copy = strdup(name) else {
                names.forEach { free($0) }
                throw AimosError(.outOfMemory, "cannot copy the model's class names")
            }
            names.append(copy)
        }
        self.model = model
        classNames = names
    }

    deinit { classNames.forEach { free($0) } }
}

/// What an aimos_result handle points to.
final class ResultHandle {
    let result: SegmentationResult
    /// Stack voxels per result voxel (aimos_segment_planes' working grid), else 1, 1, 1.
    let gridFactors: [Int]
    init(result: SegmentationResult, gridFactors: [Int] = [1, 1, 1]) {
        self.result = result
        self.gridFactors = gridFactors
    }
}

extension HandleRegistry {
    /// The live model behind a handle, or the status (with its message) to return: INVALID_ARGUMENT
    /// for NULL, MISUSE for a handle that is not a live model.
    func model(_ handle: OpaquePointer?, function: String) -> (ModelHandle?, aimos_status) {
        guard handle != nil else { return (nil, LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): model is NULL")) }
        guard let model = lookup(handle, as: ModelHandle.self) else {
            return (nil, LastError.fail(AIMOS_ERROR_MISUSE, "\(function): model is not a live aimos model handle (freed, a result, or not made by aimos_load_model)"))
        }
        return (model, AIMOS_OK)
    }

    /// The live result behind a handle, or the status to return, as `model(_:function:)`.
    func result(_ handle: OpaquePointer?, function: String) -> (ResultHandle?, aimos_status) {
        guard handle != nil else { return (nil, LastError.fail(AIMOS_ERROR_INVALID_ARGUMENT, "\(function): result is NULL")) }
        guard let result = lookup(handle, as: ResultHandle.self) else {
            return (nil, LastError.fail(AIMOS_ERROR_MISUSE, "\(function): result is not a live aimos result handle (freed, a model, or not made by aimos)"))
        }
        return (result, AIMOS_OK)
    }
}
