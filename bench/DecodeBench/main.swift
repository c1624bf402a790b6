// Times Transmute's decoding for bench/decode.py: `DecodeBench FOLDER ROUNDS [WIDTH HEIGHT]` scans FOLDER,
// decodes every image once to warm the page cache, then decodes all of them ROUNDS times and
// prints one line per round: `round <seconds> <images> <pixels>`. The decoded result is what a
// training loader gets: planar Float32 in [0, 1], EXIF-oriented; with WIDTH and HEIGHT each image
// is also resized (bicubic), as the CycleGAN loader does before cropping.
import Foundation
import ImageIO

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 5, let rounds = Int(arguments[2]), rounds > 0
else {
  FileHandle.standardError.write(Data("usage: DecodeBench FOLDER ROUNDS [WIDTH HEIGHT]\n".utf8))
  exit(2)
}
let resize: (width: Int, height: Int)? =
  arguments.count == 5
  ? Int(arguments[3]).flatMap { w in Int(arguments[4]).map { (w, $0) } } : nil
let scan = scanImageFiles(in: FilePath(arguments[1]))
guard !scan.images.isEmpty else {
  FileHandle.standardError.write(Data("no images under \(arguments[1])\n".utf8))
  exit(1)
}

/// Decodes every image once; returns the pixel count (so the work cannot be optimised away).
func decodeAll() -> Int {
  var pixels = 0
  for path in scan.images {
    do {
      var image = try Image(contentsOf: path)
      if let resize { image = image.resized(width: resize.width, height: resize.height) }
      pixels += image.pixelCount + (image.pixels.last.map { Int($0) } ?? 0)
    } catch {
      FileHandle.standardError.write(Data("\(error)\n".utf8))
    }
  }
  return pixels
}

_ = decodeAll()
for _ in 0..<rounds {
  let start = DispatchTime.now().uptimeNanoseconds
  let pixels = decodeAll()
  let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  FileHandle.standardOutput.write(Data("round \(seconds) \(scan.images.count) \(pixels)\n".utf8))
}
