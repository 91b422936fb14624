# PyTorch side of `npm run bench` (wasm section): the same workloads on the same inputs (raw
# float32 / int32 files written by the bench), 1 and 2 threads, median ms per call with torch's
# own allocations, and the extra resident set each needs. Prints one JSON object.
import json, sys, time, os
import numpy as np
import torch
import torch.nn.functional as F

spec = json.loads(sys.argv[1])
runs, warmup = spec["runs"], spec["warmup"]

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def load(name, dtype, shape):
    a = np.fromfile(os.path.join(spec["dir"], name), dtype=dtype).reshape(shape)
    return torch.from_numpy(a)

def timed(fn):
    for _ in range(warmup):
        fn()
    base = rss()
    peak = base
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
        peak = max(peak, rss())
    ts.sort()
    return {"ms": ts[len(ts) // 2], "rssMB": (peak - base) / 2**20}

out = {}
for w in spec["workloads"]:
    inputs = [load(f["file"], np.float32 if f["dtype"] == "float32" else np.int32, f["shape"]) for f in w["inputs"]]
    if w["loss"] == "CrossEntropyLoss":
        inputs[1] = inputs[1].long()
        fn = F.cross_entropy
    elif w["loss"] == "MSELoss":
        fn = F.mse_loss
    else:
        fn = F.binary_cross_entropy_with_logits
    x = inputs[0]
    rest = inputs[1:]
    def fwd():
        with torch.no_grad():
            return fn(x, *rest)
    xg = x.clone().requires_grad_(True)
    def step():
        xg.grad = None
        loss = fn(xg, *rest)
        loss.backward()
        return loss
    for threads in (1, 2):
        torch.set_num_threads(threads)
        out[f'{w["name"]}|{threads}'] = {"fwd": timed(fwd), "step": timed(step)}
print(json.dumps({"version": torch.__version__, "results": out}))
