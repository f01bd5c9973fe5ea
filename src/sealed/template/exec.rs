//! The executor: walks the parse tree against the data, as `text/template`'s `exec.go` does.

use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::funcs::{self, Ctx, FnError, Param};
use super::parse::{Arg, Cmd, Node, Pipe, Tree};
use super::value::{Str, Value, new_str};
use super::{ErrorKind, Limits, TemplateData};
use crate::crypto::SecretBytes;

type EResult<T> = Result<T, (usize, ErrorKind)>;

fn exec_err(pos: usize, msg: impl Into<String>) -> (usize, ErrorKind) {
    (pos, ErrorKind::Exec(msg.into()))
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'t> {
    tree: &'t Tree,
    out: Zeroizing<Vec<u8>>,
    vars: Vec<(String, Value)>,
    steps: u64,
    depth: usize,
    limits: Limits,
    ctx: Ctx,
    /// Costly calls left for the whole object ([`Limits::max_costly_calls`]).
    costly_left: &'t std::cell::Cell<u32>,
}

pub(crate) fn execute(
    tree: &Tree,
    data: &TemplateData,
    limits: Limits,
    costly_left: &std::cell::Cell<u32>,
) -> EResult<SecretBytes> {
    let map: BTreeMap<String, Str> =
        data.items.iter().map(|(k, v)| (k.clone(), new_str(v.expose().to_vec()))).collect();
    let dot = Value::StrMap(Rc::new(map));
    let mut s = State {
        tree,
        out: Zeroizing::new(Vec::new()),
        vars: vec![("$".into(), dot.clone())],
        steps: 0,
        depth: 0,
        limits,
        ctx: Ctx {
            max_bytes: limits.max_output_bytes,
            max_nesting: limits.max_depth,
            work: std::cell::Cell::new(limits.max_steps),
        },
        costly_left,
    };
    s.walk_list(&dot, &tree.root)?;
    Ok(SecretBytes::new(std::mem::take(&mut *s.out)))
}

impl State<'_> {
    fn step(&mut self, pos: usize) -> EResult<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err((pos, ErrorKind::Limit("too many evaluation steps")));
        }
        Ok(())
    }

    fn write(&mut self, pos: usize, bytes: &[u8]) -> EResult<()> {
        if self.out.len() + bytes.len() > self.limits.max_output_bytes {
            return Err((pos, ErrorKind::Limit("rendered value too large")));
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &[Node]) -> EResult<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node) -> EResult<Flow> {
        match node {
            Node::Text(t) => self.write(0, t.as_bytes())?,
            Node::Action(pipe) => {
                self.step(pipe.pos)?;
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let bytes = match &v {
                        Value::Nil => b"<no value>".to_vec(),
                        v => super::fmt::to_v(v),
                    };
                    let bytes = Zeroizing::new(bytes);
                    self.write(pipe.pos, &bytes)?;
                }
            }
            Node::If { pipe, list, else_list } | Node::With { pipe, list, else_list } => {
                self.step(pipe.pos)?;
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, pipe)?;
                let flow = if v.truth() {
                    let inner = if matches!(node, Node::With { .. }) { v } else { dot.clone() };
                    self.walk_list(&inner, list)?
                } else {
                    self.walk_list(dot, else_list)?
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Range { pipe, list, else_list } => return self.walk_range(dot, pipe, list, else_list),
            Node::Template { name, pipe, pos } => {
                self.step(*pos)?;
                let Some(body) = self.tree.defines.get(name) else {
                    return Err(exec_err(*pos, format!("no such template {name:?}")));
                };
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Nil,
                };
                self.depth += 1;
                if self.depth > self.limits.max_depth {
                    return Err((*pos, ErrorKind::Limit("template calls nested too deeply")));
                }
                let saved = std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone())]);
                let result = self.walk_list(&new_dot, body);
                self.vars = saved;
                self.depth -= 1;
                result?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_range(&mut self, dot: &Value, pipe: &Pipe, list: &[Node], else_list: &[Node]) -> EResult<Flow> {
        self.step(pipe.pos)?;
        let mark = self.vars.len();
        // The range variables are declared by the body, not by the pipeline's value.
        let plain = Pipe { decl: Vec::new(), is_assign: false, ..pipe.clone() };
        let v = self.eval_pipeline(dot, &plain)?;
        let items: Vec<(Value, Value)> = match &v {
            Value::List(l) => l.iter().enumerate().map(|(i, x)| (Value::Int(i as i64), x.clone())).collect(),
            Value::Dict(d) => d.borrow().iter().map(|(k, x)| (Value::text(k), x.clone())).collect(),
            Value::StrMap(m) => m.iter().map(|(k, x)| (Value::text(k), Value::Str(x.clone()))).collect(),
            Value::Nil => Vec::new(),
            other => {
                return Err(exec_err(
                    pipe.pos,
                    format!("range can't iterate over a value of type {}", other.type_name()),
                ));
            }
        };
        if items.is_empty() {
            let flow = self.walk_list(dot, else_list)?;
            self.vars.truncate(mark);
            return Ok(flow);
        }
        for (key, elem) in items {
            self.step(pipe.pos)?;
            let iteration = self.vars.len();
            match pipe.decl.as_slice() {
                [] => {}
                [v] => self.bind(v, elem.clone(), pipe.is_assign),
                [k, v, ..] => {
                    self.bind(k, key, pipe.is_assign);
                    self.bind(v, elem.clone(), pipe.is_assign);
                }
            }
            let flow = self.walk_list(&elem, list)?;
            self.vars.truncate(iteration);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn bind(&mut self, name: &str, v: Value, assign: bool) {
        if assign {
            if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v;
            }
        } else {
            self.vars.push((name.to_owned(), v));
        }
    }

    fn var(&self, name: &str, pos: usize) -> EResult<Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| exec_err(pos, format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> EResult<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            self.step(cmd.pos)?;
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for name in &pipe.decl {
            self.bind(name, value.clone(), pipe.is_assign);
        }
        Ok(value)
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Cmd, fin: Option<Value>) -> EResult<Value> {
        let has_args = cmd.args.len() > 1 || fin.is_some();
        let first = &cmd.args[0];
        if let Arg::Ident(name) = first {
            return self.call(dot, name, &cmd.args[1..], fin, cmd.pos);
        }
        let non_function = |what: &str| exec_err(cmd.pos, format!("can't give argument to non-function {what}"));
        match first {
            Arg::Field(fields) => {
                if has_args {
                    return self.method(dot, dot.clone(), fields, &cmd.args[1..], fin, cmd.pos);
                }
                self.chain(dot.clone(), fields, cmd.pos)
            }
            Arg::Var(name, fields) => {
                let v = self.var(name, cmd.pos)?;
                if has_args {
                    if fields.is_empty() {
                        return Err(non_function(name));
                    }
                    return self.method(dot, v, fields, &cmd.args[1..], fin, cmd.pos);
                }
                self.chain(v, fields, cmd.pos)
            }
            Arg::Paren(pipe, fields) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if has_args {
                    if fields.is_empty() {
                        return Err(non_function("(pipeline)"));
                    }
                    return self.method(dot, v, fields, &cmd.args[1..], fin, cmd.pos);
                }
                self.chain(v, fields, cmd.pos)
            }
            Arg::Nil => Err(exec_err(cmd.pos, "nil is not a command")),
            _ if has_args => Err(non_function("literal")),
            Arg::Dot => Ok(dot.clone()),
            other => ideal(other, cmd.pos),
        }
    }

    /// `.a.b` on `v`: map lookups; a missing key (or a nil receiver) gives nil.
    fn chain(&mut self, mut v: Value, fields: &[String], pos: usize) -> EResult<Value> {
        for f in fields {
            v = match &v {
                Value::StrMap(m) => m.get(f).map(|s| Value::Str(s.clone())).unwrap_or(Value::Nil),
                Value::Dict(d) => d.borrow().get(f).cloned().unwrap_or(Value::Nil),
                Value::Nil => Value::Nil,
                Value::Object(o) => match o.member(f, Vec::new()) {
                    Some(result) => result.map_err(|msg| exec_err(pos, format!("error calling {f}: {msg}")))?,
                    None => return Err(exec_err(pos, format!("can't evaluate field {f} in type {}", o.type_name()))),
                },
                other => {
                    return Err(exec_err(pos, format!("can't evaluate field {f} in type {}", other.type_name())));
                }
            };
        }
        Ok(v)
    }

    /// `.a.b.Method args...` on `v`: the fields before the last are looked up as [`Self::chain`]
    /// does, the last must be a method of an [`Object`](super::value::Object) (Go allows arguments only for methods).
    fn method(
        &mut self,
        dot: &Value,
        v: Value,
        fields: &[String],
        args: &[Arg],
        fin: Option<Value>,
        pos: usize,
    ) -> EResult<Value> {
        let Some((last, path)) = fields.split_last() else {
            return Err(exec_err(pos, "can't give argument to non-function"));
        };
        let receiver = self.chain(v, path, pos)?;
        let Value::Object(o) = &receiver else {
            return Err(exec_err(pos, format!("{} is not a method but has arguments", fields.join("."))));
        };
        let mut argv = Vec::with_capacity(args.len() + 1);
        for a in args {
            argv.push(self.eval_arg(dot, a, Param::Any, pos)?);
        }
        argv.extend(fin);
        match o.member(last, argv) {
            Some(result) => result.map_err(|msg| exec_err(pos, format!("error calling {last}: {msg}"))),
            None => Err(exec_err(pos, format!("can't evaluate field {last} in type {}", o.type_name()))),
        }
    }

    fn eval_arg(&mut self, dot: &Value, arg: &Arg, param: Param, pos: usize) -> EResult<Value> {
        let v = match arg {
            Arg::Dot => dot.clone(),
            Arg::Field(fields) => self.chain(dot.clone(), fields, pos)?,
            Arg::Var(name, fields) => {
                let v = self.var(name, pos)?;
                self.chain(v, fields, pos)?
            }
            Arg::Paren(pipe, fields) => {
                let v = self.eval_pipeline(dot, pipe)?;
                self.chain(v, fields, pos)?
            }
            Arg::Ident(name) => self.call(dot, name, &[], None, pos)?,
            Arg::Nil => {
                return match param {
                    Param::Any => Ok(Value::Nil),
                    Param::Dict => Ok(Value::Nil),
                    _ => Err(exec_err(pos, "cannot assign nil to a non-nillable parameter")),
                };
            }
            literal => {
                return match (param, literal) {
                    (Param::Any | Param::Reflect, _) => ideal(literal, pos),
                    (Param::Str, Arg::Str(s)) => Ok(Value::text(s)),
                    (Param::Int, Arg::Num(n))
                        if n.int.is_some() && !(n.is_float && n.float.is_some_and(|f| f.fract() != 0.0)) =>
                    {
                        Ok(Value::Int(n.int.unwrap_or(0)))
                    }
                    (Param::Bool, Arg::Bool(b)) => Ok(Value::Bool(*b)),
                    _ => Err(exec_err(pos, format!("expected {}; found a literal of another type", param_name(param)))),
                };
            }
        };
        convert(v, param, pos)
    }

    fn call(&mut self, dot: &Value, name: &str, args: &[Arg], fin: Option<Value>, pos: usize) -> EResult<Value> {
        if name == "and" || name == "or" {
            if args.is_empty() && fin.is_none() {
                return Err(exec_err(pos, format!("wrong number of args for {name}: want at least 1 got 0")));
            }
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, a, Param::Reflect, pos)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let Some(func) = funcs::func(name) else {
            return Err((pos, ErrorKind::Unsupported(name.to_owned())));
        };
        let given = args.len() + usize::from(fin.is_some());
        let want = func.params.len();
        if func.variadic.is_none() && given != want {
            return Err(exec_err(pos, format!("wrong number of args for {name}: want {want} got {given}")));
        }
        if func.variadic.is_some() && given < want {
            return Err(exec_err(pos, format!("wrong number of args for {name}: want at least {want} got {given}")));
        }
        let param_at = |i: usize| func.params.get(i).copied().or(func.variadic).unwrap_or(Param::Any);
        let mut argv = Vec::with_capacity(given);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, a, param_at(i), pos)?);
        }
        if let Some(f) = fin {
            argv.push(convert(f, param_at(args.len()), pos)?);
        }
        if funcs::is_costly(name) {
            let left = self
                .costly_left
                .get()
                .checked_sub(1)
                .ok_or((pos, ErrorKind::Limit("too many key generations and password hashes in one object")))?;
            self.costly_left.set(left);
        }
        (func.call)(&self.ctx, argv).map_err(|e| match e {
            FnError::Go(msg) => exec_err(pos, format!("error calling {name}: {msg}")),
            FnError::Limit(what) => (pos, ErrorKind::Limit(what)),
        })
    }
}

fn param_name(p: Param) -> &'static str {
    match p {
        Param::Any => "interface {}",
        Param::Reflect => "reflect.Value",
        Param::Str => "string",
        Param::Int => "int",
        Param::Bool => "bool",
        Param::Dict => "map[string]interface {}",
    }
}

/// Go's `validateType` for an evaluated value passed to a parameter of type `param`.
fn convert(v: Value, param: Param, pos: usize) -> EResult<Value> {
    let ok = match (&v, param) {
        (_, Param::Any | Param::Reflect) => true,
        (Value::Str(_), Param::Str) | (Value::Int(_), Param::Int) | (Value::Bool(_), Param::Bool) => true,
        (Value::Dict(_) | Value::Nil, Param::Dict) => true,
        (Value::Nil, _) => return Err(exec_err(pos, format!("invalid value; expected {}", param_name(param)))),
        _ => false,
    };
    if !ok {
        return Err(exec_err(
            pos,
            format!("wrong type for value; expected {}; got {}", param_name(param), v.type_name()),
        ));
    }
    Ok(v)
}

/// An untyped constant stored in an `interface{}`: `int`, `float64`, `string` or `bool`.
fn ideal(arg: &Arg, pos: usize) -> EResult<Value> {
    match arg {
        Arg::Str(s) => Ok(Value::text(s)),
        Arg::Bool(b) => Ok(Value::Bool(*b)),
        Arg::Num(n) if n.is_float => Ok(Value::Float(n.float.unwrap_or(0.0))),
        Arg::Num(n) => n.int.map(Value::Int).ok_or_else(|| exec_err(pos, "number overflows int")),
        _ => Err(exec_err(pos, "not a constant")),
    }
}
