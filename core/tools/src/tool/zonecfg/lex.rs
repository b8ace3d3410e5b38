//! zonecfg's command text, as illumos' zonecfg_lex.l cuts it: commands end
//! at `;` or a newline; a word is anything but white space and
//! `; = [ ] ( ) ,`; `"..."` is one word (no escapes, may be empty); `#`
//! at the start of a word comments out the rest of the line. `[a,b]` is
//! a list value, `(k=v,k=v)` a complex value (rctl's `value`), kept as
//! its canonical text.

use super::Val;

/// A piece of a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word(String),
    Eq,
    Value(Val),
}

/// One command: its words and values.
pub type Cmd = Vec<Token>;

/// Cut text into commands (empty ones dropped), or name what is wrong.
pub fn split_commands(text: &str) -> Result<Vec<Cmd>, String> {
    let mut cmds = Vec::new();
    let mut cur: Cmd = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    // A `,` cuts a word only inside a list (`limitpriv=default,-net_raw`
    // is one word, as illumos reads it).
    let special = |c: char, in_list: bool| {
        matches!(c, ';' | '=' | '[' | ']' | '(' | ')' | '\n') || (in_list && c == ',')
    };
    let word = |i: &mut usize, in_list: bool| -> Result<String, String> {
        if chars[*i] == '"' {
            let start = *i + 1;
            let mut j = start;
            while j < chars.len() && chars[j] != '"' && chars[j] != '\n' {
                j += 1;
            }
            if j >= chars.len() || chars[j] != '"' {
                return Err("unterminated string".to_string());
            }
            *i = j + 1;
            return Ok(chars[start..j].iter().collect());
        }
        let start = *i;
        while *i < chars.len() && !chars[*i].is_whitespace() && !special(chars[*i], in_list) {
            *i += 1;
        }
        Ok(chars[start..*i].iter().collect())
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' | ';' => {
                if !cur.is_empty() {
                    cmds.push(std::mem::take(&mut cur));
                }
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '=' => {
                cur.push(Token::Eq);
                i += 1;
            }
            '[' => {
                i += 1;
                let mut items = Vec::new();
                loop {
                    while i < chars.len() && chars[i] != '\n' && chars[i].is_whitespace() {
                        i += 1;
                    }
                    if i >= chars.len() || chars[i] == '\n' {
                        return Err("unterminated list: missing ']'".to_string());
                    }
                    match chars[i] {
                        ']' => {
                            i += 1;
                            break;
                        }
                        ',' => i += 1,
                        '(' => {
                            let (v, n) = complex(&chars, i)?;
                            items.push(v);
                            i = n;
                        }
                        c if special(c, true) => return Err(format!("syntax error at '{c}'")),
                        _ => items.push(word(&mut i, true)?),
                    }
                }
                cur.push(Token::Value(Val::List(items)));
            }
            '(' => {
                let (v, n) = complex(&chars, i)?;
                cur.push(Token::Value(Val::Simple(v)));
                i = n;
            }
            ']' | ')' => return Err(format!("syntax error at '{c}'")),
            _ => cur.push(Token::Word(word(&mut i, false)?)),
        }
    }
    if !cur.is_empty() {
        cmds.push(cur);
    }
    Ok(cmds)
}

/// `(k=v,k=v)` starting at `chars[i]` (the `(`): its canonical text
/// (no blanks) and the index after the `)`.
fn complex(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    i += 1;
    let mut body = String::new();
    while i < chars.len() && chars[i] != ')' {
        if chars[i] == '\n' || chars[i] == ';' || chars[i] == '(' {
            return Err("unterminated value: missing ')'".to_string());
        }
        if !chars[i].is_whitespace() {
            body.push(chars[i]);
        }
        i += 1;
    }
    if i >= chars.len() {
        return Err("unterminated value: missing ')'".to_string());
    }
    for pair in body.split(',') {
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {}
            _ => return Err(format!("syntax error in value '({body})'")),
        }
    }
    Ok((format!("({body})"), i + 1))
}

/// A simple value as `export` writes it: quoted when it is empty or
/// holds a character the lexer would cut at.
pub fn quote(s: &str) -> String {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || "; =[]()#\"".contains(c))
    {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

/// A value as `export` and `info` write it.
pub fn show(v: &Val) -> String {
    match v {
        Val::Simple(s) if s.starts_with('(') => s.clone(),
        Val::Simple(s) => quote(s),
        Val::List(l) => format!(
            "[{}]",
            l.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")
        ),
    }
}
