import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The reason behind a Foundation file error in the C library's words ("Permission denied",
/// "No such file or directory"), for messages that already name the file. Foundation's own
/// text is a sentence ("The operation could not be completed. You don’t have permission.") or,
/// through `String(describing:)`, a dump of its domain, code and user info; both are avoided.
/// Errors that carry no system error number keep their localized description.
public func fileErrorReason(_ error: any Error) -> String {
  let nsError = error as NSError
  if nsError.domain == NSPOSIXErrorDomain {
    return String(cString: strerror(Int32(nsError.code)))
  }
  if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
    underlying.domain == NSPOSIXErrorDomain
  {
    return String(cString: strerror(Int32(underlying.code)))
  }
  if nsError.domain == NSCocoaErrorDomain, let number = systemErrorNumber(cocoaCode: nsError.code) {
    return String(cString: strerror(number))
  }
  // Foundation reports a folder that cannot be made below a file as an unknown write error
  // with no system error attached; the path it names tells what went wrong.
  if nsError.domain == NSCocoaErrorDomain,
    let path = nsError.userInfo[NSFilePathErrorKey] as? String,
    let blocker = fileInTheWay(of: path)
  {
    return "\(blocker) is a file, not a folder"
  }
  return nsError.localizedDescription
}

/// The nearest existing part of `path` (itself excluded) when it is not a folder.
private func fileInTheWay(of path: String) -> String? {
  var part = (path as NSString).deletingLastPathComponent
  while !part.isEmpty && part != "/" {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: part, isDirectory: &isFolder) {
      return isFolder.boolValue ? nil : part
    }
    part = (part as NSString).deletingLastPathComponent
  }
  return nil
}

/// The `errno` a Cocoa file error code stands for, when there is one.
private func systemErrorNumber(cocoaCode: Int) -> Int32? {
  switch CocoaError.Code(rawValue: cocoaCode) {
  case .fileNoSuchFile, .fileReadNoSuchFile: return ENOENT
  case .fileReadNoPermission, .fileWriteNoPermission: return EACCES
  case .fileWriteOutOfSpace: return ENOSPC
  case .fileWriteVolumeReadOnly: return EROFS
  case .fileWriteFileExists: return EEXIST
  default: return nil
  }
}
