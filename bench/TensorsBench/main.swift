// Times Tensors operations for bench/tensor_ops.py. Without arguments it lists the cases (the
// shapes of a CycleGAN generator and discriminator at 256×256, and one inference-sized plane),
// one `name` per line. Then it reads requests `<case name>\t<forward|training>\t<runs>` from
// stdin and answers each with one line of `runs` wall times in seconds (one warm-up first).
// "forward" runs in inference mode; "training" is forward plus backward from a constant
// upstream gradient.
import Dispatch
import Foundation
import Tensors

/// One timed operation on tensors shaped `shape`.
struct BenchCase {
  let name: String
  let shape: [Int]
  let operation: (Tensor) -> Tensor
}

let cases: [BenchCase] = [
  BenchCase(name: "instance_norm 64x256x256", shape: [1, 64, 256, 256]) { instanceNorm2d($0) },
  BenchCase(name: "instance_norm 256x64x64", shape: [1, 256, 64, 64]) { instanceNorm2d($0) },
  BenchCase(name: "relu 64x256x256", shape: [1, 64, 256, 256]) { relu($0) },
  BenchCase(name: "leaky_relu 128x64x64", shape: [1, 128, 64, 64]) { leakyRelu($0, slope: 0.2) },
  BenchCase(name: "tanh 3x256x256", shape: [1, 3, 256, 256]) { tanh($0) },
  BenchCase(name: "reflection_pad3 3x256x256", shape: [1, 3, 256, 256]) {
    reflectionPad2d($0, padding: 3)
  },
  BenchCase(name: "reflection_pad1 256x64x64", shape: [1, 256, 64, 64]) {
    reflectionPad2d($0, padding: 1)
  },
  BenchCase(name: "add 256x64x64", shape: [1, 256, 64, 64]) { $0 + $0 * 0.5 },
  BenchCase(name: "upsample_bilinear 64x128x128", shape: [1, 64, 128, 128]) {
    upsampleBilinear2d($0, scale: 2)
  },
  BenchCase(name: "upsample_nearest 64x128x128", shape: [1, 64, 128, 128]) {
    upsampleNearest2d($0, scale: 2)
  },
  BenchCase(name: "concatenate 64x128x128", shape: [1, 64, 128, 128]) {
    concatenate([$0, $0], alongAxis: 1)
  },
  BenchCase(name: "l1_loss 3x256x256", shape: [1, 3, 256, 256]) {
    l1Loss($0, Tensor(shape: [1, 3, 256, 256], repeating: 0.25))
  },
  BenchCase(name: "instance_norm_relu 64x1024x1024", shape: [1, 64, 1024, 1024]) {
    relu(instanceNorm2d($0))
  },
]

/// Seconds taken by `body`.
func seconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The wall times of `runs` runs of `benchCase` in `mode`, after one warm-up run.
func measure(_ benchCase: BenchCase, mode: String, runs: Int, input: Tensor) -> [Double] {
  let upstream = withoutGradients { benchCase.operation(input) }.shape
  let seed = Tensor(shape: upstream, repeating: 0.5)
  var times: [Double] = []
  for run in 0...runs {
    let time: Double
    if mode == "forward" {
      time = seconds { _ = withoutGradients { benchCase.operation(input) } }
    } else {
      let leaf = input.requiringGradient()
      time = seconds {
        let output = benchCase.operation(leaf)
        output.backward(seed: seed)
      }
    }
    if run > 0 { times.append(time) }
  }
  return times
}

for benchCase in cases { print(benchCase.name) }
print("")
fflush(nil)
var generator = RandomGenerator(seed: 1)
var inputs: [String: Tensor] = [:]
while let line = readLine() {
  let fields = line.split(separator: "\t").map(String.init)
  guard fields.count == 3, let runs = Int(fields[2]),
    let benchCase = cases.first(where: { $0.name == fields[0] })
  else {
    print("error: bad request \(line)")
    fflush(nil)
    continue
  }
  let input =
    inputs[benchCase.name] ?? Tensor.randomNormal(shape: benchCase.shape, using: &generator)
  inputs = [benchCase.name: input]
  let times = measure(benchCase, mode: fields[1], runs: runs, input: input)
  print(times.map { String($0) }.joined(separator: " "))
  fflush(nil)
}
