#!/usr/bin/python3
"""Rewrites the PaddleOCR v4 ONNX models so that OpenCV 4.6's DNN module loads them.

    convert-paddle-models.py SRC_DIR OUT_DIR

SRC_DIR holds the npm package's assets (ch_PP-OCRv4_det_infer.onnx,
ch_PP-OCRv4_rec_infer.onnx, ch_ppocr_mobile_v2.0_cls_infer.onnx,
ppocr_keys_v1.txt). OUT_DIR receives det.onnx, cls.onnx, one rec_wN.onnx
per recognition width bucket, and keys.txt.

The models as shipped do not load in OpenCV 4.6:
  * Clip nodes of opset 11 carry min/max as inputs; OpenCV reads only the
    attribute form, so the inputs become attributes.
  * Constant nodes become initializers, so that OpenCV sees them as weights.
  * Recognition and the angle classifier compute Reshape targets from
    Shape nodes, which OpenCV cannot evaluate on a dynamic input ("dynamic
    zero shapes"). Those targets are folded into constants (0: copy a
    dimension, -1: infer one).
  * OpenCV 4.6 still sizes recognition's layers (Squeeze, ReduceMean, the
    pooling) from the input shape it finds in the file, and gets a batch
    larger than one or a dynamic width wrong. So recognition's input is
    pinned to 1x3x48xW, one file per width bucket: the engine groups lines
    by bucket, pads each line to its bucket's width and runs one network
    per bucket (src/ocr/ocr_paddle.cc). The classifier takes any batch.
  * OpenCV maps Mul/Add with a 1-D constant onto its Scale layer, which
    broadcasts over axis 1 unless told otherwise; the LayerNorm and bias
    Mul/Adds of recognition broadcast over the last axis of a 3-D tensor,
    so they get an explicit axis attribute.

One rewrite is for speed, not loading: OpenCV 4.6 runs a depthwise 3x3
convolution on a fast vectorised path and any other depthwise kernel on a
generic loop, about 20 times slower per output (measured: 240 channels,
12x80, 0.17 ms against 3.9 ms for 5x5). Recognition and the classifier are
built on depthwise 5x5 convolutions (8 each), which took some 40% of a
recognition. Each becomes four depthwise 3x3 convolutions over the four
corners of its kernel (padded so each reads the same window the 5x5 did)
and a Sum: the same function to float rounding (largest difference on
random input 1.5e-6 of outputs up to 0.8), recognition 25% faster, the
classifier 28%. Detection gains nothing from it (its time is elsewhere)
and keeps its 5x5 convolutions.

Deterministic: the same input gives byte-identical output (no timestamps,
nodes and initializers kept in order), so scripts/fetch-models.sh can pin
the outputs' sha256. Needs Debian's python3-onnx (run with /usr/bin/python3).
"""

import os
import shutil
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

# Recognition width buckets (pixels at height 48). Must match
# kRecWidths in src/ocr/ocr_paddle.cc.
REC_WIDTHS = [160, 320, 480, 640, 800, 960, 1280]


def constants_to_initializers(graph):
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.output) == 1:
            value = None
            for a in node.attribute:
                if a.name == "value":
                    value = numpy_helper.to_array(a.t)
            if value is not None:
                graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
                continue
        kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)


def initializer_values(graph):
    return {i.name: numpy_helper.to_array(i) for i in graph.initializer}


def clip_to_attributes(graph):
    values = initializer_values(graph)
    for node in graph.node:
        if node.op_type != "Clip" or len(node.input) == 1:
            continue
        bounds = {}
        for name, index in (("min", 1), ("max", 2)):
            if len(node.input) > index and node.input[index]:
                if node.input[index] not in values:
                    sys.exit(f"convert: Clip {node.name}: {name} is not a constant")
                bounds[name] = float(values[node.input[index]].reshape(-1)[0])
        inp = node.input[0]
        del node.input[:]
        node.input.append(inp)
        for name, v in bounds.items():
            node.attribute.append(helper.make_attribute(name, v))


def pin_input(model, dims):
    inp = model.graph.input[0]
    shape = inp.type.tensor_type.shape
    for d, v in zip(shape.dim, dims):
        d.Clear()
        d.dim_value = v


def fold_computed_reshapes(graph):
    """Replaces each Reshape target computed from Shape nodes by a constant.

    A target element that is the same dimension of the Reshape's own input
    becomes 0 (ONNX: copy that dimension); the one element left unknown
    becomes -1 (inferred). The Shape/Slice/Cast/Concat chains are then dead
    and dropped, so OpenCV never evaluates a Shape.
    """
    values = {k: v for k, v in initializer_values(graph).items()}
    # Symbolic 1-D integer tensors: lists whose elements are ints or
    # ("dim", tensor, index) for a dimension known only at run time.
    sym = {}

    def elements(name):
        if name in sym:
            return sym[name]
        if name in values and values[name].dtype.kind in "iu" and values[name].ndim <= 1:
            return [int(x) for x in values[name].reshape(-1)]
        return None

    def attr(node, name):
        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return None

    for node in graph.node:
        t = node.op_type
        if t == "Shape":
            sym[node.output[0]] = ("shape-of", node.input[0])
        elif t == "Cast" and (node.input[0] in sym or elements(node.input[0]) is not None):
            sym[node.output[0]] = sym.get(node.input[0]) or elements(node.input[0])
        elif t == "Slice" and node.input[0] in sym and len(node.input) == 1:
            src = sym[node.input[0]]
            starts, ends = attr(node, "starts"), attr(node, "ends")
            if attr(node, "axes") not in (None, [0]) or len(starts) != 1 or starts[0] < 0 or ends[0] < 0:
                sys.exit(f"convert: unsupported Slice of a shape: {node.name}")
            if isinstance(src, tuple):  # the whole Shape of a tensor
                sym[node.output[0]] = [("dim", src[1], i) for i in range(starts[0], ends[0])]
            else:
                sym[node.output[0]] = src[starts[0]:ends[0]]
        elif t == "Concat" and any(i in sym for i in node.input):
            parts = [elements(i) for i in node.input]
            if any(p is None or isinstance(p, tuple) for p in parts):
                sys.exit(f"convert: unsupported Concat of a shape: {node.name}")
            sym[node.output[0]] = [e for p in parts for e in p]
        elif t == "Reshape" and node.input[1] in sym:
            target = []
            for pos, e in enumerate(sym[node.input[1]]):
                if isinstance(e, int):
                    target.append(e)
                elif e[1] == node.input[0] and e[2] == pos:
                    target.append(0)
                else:
                    target.append(None)
            if target.count(None) > 1:
                sys.exit(f"convert: Reshape {node.name} has more than one unknown dimension")
            target = [-1 if e is None else e for e in target]
            name = node.output[0] + "_shape"
            graph.initializer.append(numpy_helper.from_array(np.array(target, dtype=np.int64), name))
            node.input[1] = name
    drop_dead_nodes(graph)


def drop_dead_nodes(graph):
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    kept.reverse()
    del graph.node[:]
    graph.node.extend(kept)


def drop_unused_initializers(graph):
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def explicit_broadcast_axes(model):
    """Gives Mul/Add of an N-D tensor (N >= 3) and a 1-D constant an explicit axis N-1."""
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    ranks = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input):
        if vi.type.tensor_type.HasField("shape"):
            ranks[vi.name] = len(vi.type.tensor_type.shape.dim)
    values = initializer_values(model.graph)
    changed = 0
    for node in model.graph.node:
        if node.op_type not in ("Mul", "Add", "Sub", "Div") or len(node.input) != 2:
            continue
        const = [i for i in node.input if i in values]
        var = [i for i in node.input if i not in values]
        if len(const) != 1 or len(var) != 1:
            continue
        c = values[const[0]]
        if c.size <= 1 or c.ndim != 1:
            continue
        rank = ranks.get(var[0])
        if rank is None:
            sys.exit(f"convert: {node.op_type} {node.name}: unknown rank of {var[0]}")
        if rank >= 3:
            node.attribute.append(helper.make_attribute("axis", rank - 1))
            changed += 1
    return changed


def split_depthwise_5x5(graph):
    """Rewrites each depthwise 5x5 convolution (pads 2, dilation 1) as four
    depthwise 3x3 convolutions and a Sum (see the top of the file).

    Sub-kernel (dy, dx), dy and dx in {0, 2}, holds the 5x5 kernel's rows
    dy..dy+2 and columns dx..dx+2, row and column 2 kept only in the first
    sub-kernel that covers them, so every weight is counted once. With pads
    (top 2-dy, left 2-dx, bottom dy, right dx) it reads for each output the
    same inputs those weights read in the 5x5 convolution, at any stride.
    The bias, if any, goes to the first. Returns how many were rewritten."""
    values = {i.name: i for i in graph.initializer}
    nodes = []
    rewritten = 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        w = values.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        if (w is None or list(w.dims[1:]) != [1, 5, 5] or attrs.get("group", 1) != w.dims[0]
                or list(attrs.get("pads", [0, 0, 0, 0])) != [2, 2, 2, 2]
                or list(attrs.get("dilations", [1, 1])) != [1, 1]
                or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")):
            nodes.append(node)
            continue
        kernel = numpy_helper.to_array(w)
        parts = []
        for dy in (0, 2):
            for dx in (0, 2):
                sub = np.zeros((kernel.shape[0], 1, 3, 3), dtype=kernel.dtype)
                for i in range(0 if dy == 0 else 1, 3):
                    for j in range(0 if dx == 0 else 1, 3):
                        sub[:, 0, i, j] = kernel[:, 0, dy + i, dx + j]
                name = f"{node.output[0]}_dw3_{dy}{dx}"
                graph.initializer.append(numpy_helper.from_array(sub, name + "_w"))
                inputs = [node.input[0], name + "_w"]
                if len(node.input) > 2 and node.input[2] and dy == 0 and dx == 0:
                    inputs.append(node.input[2])
                nodes.append(helper.make_node("Conv", inputs, [name], name=name, group=attrs["group"],
                                              kernel_shape=[3, 3], pads=[2 - dy, 2 - dx, dy, dx],
                                              strides=list(attrs.get("strides", [1, 1]))))
                parts.append(name)
        nodes.append(helper.make_node("Sum", parts, list(node.output), name=node.name + "_sum"))
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return rewritten


def save(model, path):
    # Same bytes for the same graph: no producer version or doc strings that
    # could differ between onnx releases.
    model.producer_name = "ncbocr-convert"
    model.producer_version = "1"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: convert-paddle-models.py SRC_DIR OUT_DIR")
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)

    det = onnx.load(os.path.join(src, "ch_PP-OCRv4_det_infer.onnx"))
    constants_to_initializers(det.graph)
    clip_to_attributes(det.graph)
    drop_unused_initializers(det.graph)
    save(det, os.path.join(out, "det.onnx"))

    cls = onnx.load(os.path.join(src, "ch_ppocr_mobile_v2.0_cls_infer.onnx"))
    constants_to_initializers(cls.graph)
    clip_to_attributes(cls.graph)
    fold_computed_reshapes(cls.graph)
    split_depthwise_5x5(cls.graph)
    drop_unused_initializers(cls.graph)
    save(cls, os.path.join(out, "cls.onnx"))

    for w in REC_WIDTHS:
        rec = onnx.load(os.path.join(src, "ch_PP-OCRv4_rec_infer.onnx"))
        constants_to_initializers(rec.graph)
        clip_to_attributes(rec.graph)
        fold_computed_reshapes(rec.graph)
        pin_input(rec, [1, 3, 48, w])
        explicit_broadcast_axes(rec)
        split_depthwise_5x5(rec.graph)
        drop_unused_initializers(rec.graph)
        save(rec, os.path.join(out, f"rec_w{w}.onnx"))

    shutil.copyfile(os.path.join(src, "ppocr_keys_v1.txt"), os.path.join(out, "keys.txt"))


if __name__ == "__main__":
    main()
