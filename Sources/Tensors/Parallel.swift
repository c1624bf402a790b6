import Kernels

// Tensors' own loops (elementwise, norms, padding) spread over the thread budget of
// `Kernels.ComputeThreads`, and never while a kernel's sgemm runs (operations run one after
// another on the caller's thread), so OpenBLAS and these loops never oversubscribe the cores.

/// Elements per worker below which splitting an elementwise loop does not pay.
let elementsPerWorker = 1 << 16
