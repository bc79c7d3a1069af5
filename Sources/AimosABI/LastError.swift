#if canImport(Glibc)
import Glibc
#endif
import AimosCore
import CAimosHeader

/// The per-thread message behind aimos_last_error: a malloc'd C string in a pthread key,
/// replaced by the next failure on the same thread and freed when the thread ends.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }

    static var current: UnsafePointer<CChar>? {
        pthread_getspecific(key).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
    }

    /// Records a failure and returns its status.
    static func fail(_ status: aimos_status, _ message: String) -> aimos_status {
        set(message)
        return status
    }

    /// Runs an entry point's body: any error becomes a status and a message; nothing escapes.
    static func guarded(_ function: String, _ body: () throws -> Void) -> aimos_status {
        do {
            try body()
            return AIMOS_OK
        } catch let error as AimosError {
            return fail(aimos_status(rawValue: UInt32(error.kind.rawValue)), "\(function): \(error.message)")
        } catch {
            return fail(AIMOS_ERROR_INTERNAL, "\(function): unexpected error \(error)")
        }
    }
}
