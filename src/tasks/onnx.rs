//! Reads the float tensors of an ONNX file — the graph's initializers and
//! the `value` of its `Constant` nodes, in subgraphs too (an `If`'s
//! branches) — by name, for models whose network Spaceport builds itself
//! (the Silero voice-activity detector). Only the protobuf wire format and
//! the few fields of ONNX's `ModelProto`, `GraphProto`, `NodeProto`,
//! `AttributeProto` and `TensorProto` that hold weights are read; every
//! length is checked against the bytes that are there before it is used.

use std::collections::HashMap;

/// A float tensor: its shape and values (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

/// The float tensors of an ONNX model by name. Tensors of other types
/// are skipped; a tensor stored outside the file is an error.
pub fn float_tensors(bytes: &[u8]) -> Result<HashMap<String, Tensor>, String> {
    let mut out = HashMap::new();
    let mut graphs = 0;
    for field in Fields::new(bytes) {
        let (num, value) = field?;
        if num == 7 {
            graphs += 1;
            graph(value.bytes()?, &mut out, 0)?;
        }
    }
    if graphs == 0 {
        return Err("it is not an ONNX model (no graph)".into());
    }
    Ok(out)
}

/// One field's value as read from the wire.
#[derive(Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Fixed64,
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    fn bytes(self) -> Result<&'a [u8], String> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err("a message field has the wrong wire type".into()),
        }
    }
    fn string(self) -> Result<String, String> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
}

/// The fields of one protobuf message, in order.
struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            at: 0,
            failed: false,
        }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.at) else {
                return Err("the file ends inside a number".into());
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number is too long".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or("the file ends inside a field (cut short?)")?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn next_field(&mut self) -> Result<(u64, Value<'a>), String> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "a field is too long")?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            w => return Err(format!("unknown wire type {w}")),
        };
        Ok((key >> 3, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), String>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.buf.len() {
            return None;
        }
        let r = self.next_field();
        self.failed = r.is_err();
        Some(r)
    }
}

/// Subgraphs nest; deeper than this is not a model file.
const MAX_DEPTH: usize = 16;

fn graph(buf: &[u8], out: &mut HashMap<String, Tensor>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("its graphs nest too deeply".into());
    }
    for field in Fields::new(buf) {
        match field? {
            (1, v) => node(v.bytes()?, out, depth)?,
            (5, v) => {
                if let Some((name, t)) = tensor(v.bytes()?)? {
                    out.insert(name, t);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn node(buf: &[u8], out: &mut HashMap<String, Tensor>, depth: usize) -> Result<(), String> {
    let mut outputs = Vec::new();
    let mut op = String::new();
    let mut values = Vec::new();
    for field in Fields::new(buf) {
        match field? {
            (2, v) => outputs.push(v.string()?),
            (4, v) => op = v.string()?,
            (5, v) => {
                // AttributeProto: 1 name, 5 t, 6 g, 11 graphs.
                let mut name = String::new();
                let mut t = None;
                for f in Fields::new(v.bytes()?) {
                    match f? {
                        (1, v) => name = v.string()?,
                        (5, v) => t = Some(v.bytes()?),
                        (6, v) | (11, v) => graph(v.bytes()?, out, depth + 1)?,
                        _ => {}
                    }
                }
                if let Some(t) = t {
                    values.push((name, t));
                }
            }
            _ => {}
        }
    }
    if op == "Constant" {
        for (name, t) in values {
            if name == "value"
                && let (Some(output), Some((_, tensor))) = (outputs.first(), tensor(t)?)
            {
                out.insert(output.clone(), tensor);
            }
        }
    }
    Ok(())
}

/// A `TensorProto` of floats: its name and values; `None` for other types.
fn tensor(buf: &[u8]) -> Result<Option<(String, Tensor)>, String> {
    const FLOAT: u64 = 1;
    let mut dims: Vec<usize> = Vec::new();
    let mut kind = 0;
    let mut name = String::new();
    let mut raw: Option<&[u8]> = None;
    let mut floats: Vec<f32> = Vec::new();
    let mut external = false;
    for field in Fields::new(buf) {
        match field? {
            (1, Value::Varint(d)) => dims.push(usize::try_from(d).map_err(|_| "a size too big")?),
            (1, Value::Bytes(packed)) => {
                let mut f = Fields::new(packed);
                while f.at < packed.len() {
                    dims.push(usize::try_from(f.varint()?).map_err(|_| "a size too big")?);
                }
            }
            (2, Value::Varint(k)) => kind = k,
            (4, Value::Fixed32(bits)) => floats.push(f32::from_bits(bits)),
            (4, Value::Bytes(packed)) => {
                if packed.len() % 4 != 0 {
                    return Err("a tensor's values are cut short".into());
                }
                floats.extend(
                    packed
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                );
            }
            (8, v) => name = v.string()?,
            (9, v) => raw = Some(v.bytes()?),
            (14, Value::Varint(1)) => external = true,
            _ => {}
        }
    }
    if kind != FLOAT {
        return Ok(None);
    }
    if external {
        return Err(format!("tensor {name} is stored in another file"));
    }
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("tensor {name} is too big"))?;
    let data = match raw {
        Some(raw) => {
            if raw.len() != count.saturating_mul(4) {
                return Err(format!(
                    "tensor {name} holds {} bytes, its shape {dims:?} needs {}",
                    raw.len(),
                    count.saturating_mul(4)
                ));
            }
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        }
        None => floats,
    };
    if data.len() != count {
        return Err(format!(
            "tensor {name} has {} values, its shape {dims:?} needs {count}",
            data.len()
        ));
    }
    Ok(Some((name, Tensor { dims, data })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn field(num: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(num << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }
    fn float_tensor(name: &str, dims: &[u64], values: &[f32]) -> Vec<u8> {
        let mut t = Vec::new();
        for &d in dims {
            varint(1 << 3, &mut t);
            varint(d, &mut t);
        }
        varint(2 << 3, &mut t);
        varint(1, &mut t);
        field(8, name.as_bytes(), &mut t);
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        field(9, &raw, &mut t);
        t
    }

    /// A model with an initializer and, inside an `If` branch, a
    /// `Constant` — both found by name.
    #[test]
    fn initializers_and_constants_in_subgraphs_are_read() {
        let mut constant = Vec::new();
        field(2, b"branch.w", &mut constant);
        field(4, b"Constant", &mut constant);
        let mut attr = Vec::new();
        field(1, b"value", &mut attr);
        field(5, &float_tensor("", &[2], &[3.0, 4.0]), &mut attr);
        field(5, &attr, &mut constant);
        let mut branch = Vec::new();
        field(1, &constant, &mut branch);
        let mut if_node = Vec::new();
        field(4, b"If", &mut if_node);
        let mut g_attr = Vec::new();
        field(1, b"then_branch", &mut g_attr);
        field(6, &branch, &mut g_attr);
        field(5, &g_attr, &mut if_node);
        let mut g = Vec::new();
        field(1, &if_node, &mut g);
        field(5, &float_tensor("top", &[1, 2], &[1.0, 2.0]), &mut g);
        let mut model = Vec::new();
        varint(1 << 3, &mut model); // ir_version
        varint(8, &mut model);
        field(7, &g, &mut model);
        let t = float_tensors(&model).unwrap();
        assert_eq!(t["top"].dims, vec![1, 2]);
        assert_eq!(t["top"].data, vec![1.0, 2.0]);
        assert_eq!(t["branch.w"].data, vec![3.0, 4.0]);
        // Cut anywhere inside, it is an error, not a panic.
        for cut in 1..model.len() {
            let _ = float_tensors(&model[..cut]);
        }
        assert!(float_tensors(&model[..model.len() - 3]).is_err());
        assert!(float_tensors(b"not a model at all").is_err());
    }

    #[test]
    fn a_shape_its_values_do_not_fill_is_refused() {
        let mut g = Vec::new();
        field(5, &float_tensor("w", &[3, 2], &[1.0, 2.0]), &mut g);
        let mut model = Vec::new();
        field(7, &g, &mut model);
        let e = float_tensors(&model).unwrap_err();
        assert!(e.contains("needs 24"), "{e}");
    }
}
