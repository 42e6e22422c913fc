//! A small DOM built by html5ever's tree builder, with every parse error kept, so
//! tests can check that a report is valid HTML and look inside it.

use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tokenizer::TokenizerOpts;
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeBuilderOpts, TreeSink};
use html5ever::{Attribute, QualName, parse_document};
use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};

/// What a node is.
pub enum Data {
    Document,
    Doctype,
    Comment,
    Text(String),
    Element {
        name: QualName,
        attrs: Vec<Attribute>,
    },
}

/// A node and its place in the tree.
pub struct Node {
    pub data: Data,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
}

/// A parsed document: node 0 is the document.
pub struct Dom {
    pub nodes: Vec<Node>,
    pub errors: Vec<String>,
    pub quirks: QuirksMode,
}

/// Parses `html` as a whole document, reporting every parse error.
pub fn parse(html: &str) -> Dom {
    let opts = html5ever::ParseOpts {
        tokenizer: TokenizerOpts {
            exact_errors: true,
            ..Default::default()
        },
        tree_builder: TreeBuilderOpts {
            exact_errors: true,
            ..Default::default()
        },
    };
    parse_document(Sink::default(), opts).one(html)
}

impl Dom {
    /// Ids of the elements named `local` (any namespace), in document order.
    pub fn elements(&self, local: &str) -> Vec<usize> {
        let mut found = Vec::new();
        self.walk(0, &mut |id| {
            if self.name(id) == Some(local) {
                found.push(id);
            }
        });
        found
    }

    /// The local name of element `id`.
    pub fn name(&self, id: usize) -> Option<&str> {
        match &self.nodes[id].data {
            Data::Element { name, .. } => Some(&name.local),
            _ => None,
        }
    }

    /// The value of attribute `attr` on element `id`.
    pub fn attr(&self, id: usize, attr: &str) -> Option<&str> {
        match &self.nodes[id].data {
            Data::Element { attrs, .. } => attrs
                .iter()
                .find(|a| &*a.name.local == attr)
                .map(|a| &*a.value),
            _ => None,
        }
    }

    /// Element children of `id`.
    pub fn child_elements(&self, id: usize) -> Vec<usize> {
        self.nodes[id]
            .children
            .iter()
            .copied()
            .filter(|&c| self.name(c).is_some())
            .collect()
    }

    /// Ids of the parent, grandparent, ... of `id`.
    pub fn ancestors(&self, id: usize) -> Vec<usize> {
        std::iter::successors(self.nodes[id].parent, |&p| self.nodes[p].parent).collect()
    }

    /// All text under `id`, concatenated.
    pub fn text(&self, id: usize) -> String {
        let mut text = String::new();
        self.walk(id, &mut |n| {
            if let Data::Text(t) = &self.nodes[n].data {
                text.push_str(t);
            }
        });
        text
    }

    fn walk(&self, id: usize, visit: &mut dyn FnMut(usize)) {
        visit(id);
        for &child in &self.nodes[id].children {
            self.walk(child, visit);
        }
    }
}

struct Sink {
    nodes: RefCell<Vec<Node>>,
    errors: RefCell<Vec<String>>,
    quirks: Cell<QuirksMode>,
}

impl Default for Sink {
    fn default() -> Self {
        Sink {
            nodes: RefCell::new(vec![Node {
                data: Data::Document,
                parent: None,
                children: vec![],
            }]),
            errors: RefCell::default(),
            quirks: Cell::new(QuirksMode::NoQuirks),
        }
    }
}

impl Sink {
    fn add(&self, data: Data) -> usize {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node {
            data,
            parent: None,
            children: vec![],
        });
        nodes.len() - 1
    }

    fn detach(&self, id: usize) {
        let mut nodes = self.nodes.borrow_mut();
        if let Some(parent) = nodes[id].parent.take() {
            nodes[parent].children.retain(|&c| c != id);
        }
    }

    /// Puts `child` under `parent`, before the child `before` (at the end for
    /// `None`), merging text into a text node just before it.
    fn insert(&self, parent: usize, before: Option<usize>, child: NodeOrText<usize>) {
        let id = match child {
            NodeOrText::AppendNode(id) => {
                self.detach(id);
                id
            }
            NodeOrText::AppendText(text) => {
                let mut nodes = self.nodes.borrow_mut();
                let index = Self::position(&nodes, parent, before);
                let prev = index.checked_sub(1).map(|i| nodes[parent].children[i]);
                if let Some(Data::Text(t)) = prev.map(|p| &mut nodes[p].data) {
                    t.push_str(&text);
                    return;
                }
                drop(nodes);
                self.add(Data::Text(text.to_string()))
            }
        };
        let mut nodes = self.nodes.borrow_mut();
        let index = Self::position(&nodes, parent, before);
        nodes[id].parent = Some(parent);
        nodes[parent].children.insert(index, id);
    }

    /// Index in `parent`'s children of `before`, or the end for `None`.
    fn position(nodes: &[Node], parent: usize, before: Option<usize>) -> usize {
        let children = &nodes[parent].children;
        before
            .and_then(|b| children.iter().position(|&c| c == b))
            .unwrap_or(children.len())
    }
}

impl TreeSink for Sink {
    type Handle = usize;
    type Output = Dom;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Dom {
        Dom {
            nodes: self.nodes.into_inner(),
            errors: self.errors.into_inner(),
            quirks: self.quirks.get(),
        }
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        self.errors.borrow_mut().push(msg.into_owned());
    }

    fn get_document(&self) -> usize {
        0
    }

    fn elem_name<'a>(&'a self, target: &'a usize) -> Ref<'a, QualName> {
        Ref::map(self.nodes.borrow(), |nodes| match &nodes[*target].data {
            Data::Element { name, .. } => name,
            _ => panic!("node {target} is not an element"),
        })
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> usize {
        assert!(!flags.template, "reports have no <template>");
        self.add(Data::Element { name, attrs })
    }

    fn create_comment(&self, _text: StrTendril) -> usize {
        self.add(Data::Comment)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> usize {
        self.add(Data::Comment)
    }

    fn append(&self, parent: &usize, child: NodeOrText<usize>) {
        self.insert(*parent, None, child);
    }

    fn append_based_on_parent_node(&self, element: &usize, prev: &usize, child: NodeOrText<usize>) {
        if self.nodes.borrow()[*element].parent.is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev, child);
        }
    }

    fn append_doctype_to_document(
        &self,
        _name: StrTendril,
        _public: StrTendril,
        _system: StrTendril,
    ) {
        let id = self.add(Data::Doctype);
        self.insert(0, None, NodeOrText::AppendNode(id));
    }

    fn get_template_contents(&self, target: &usize) -> usize {
        *target
    }

    fn same_node(&self, x: &usize, y: &usize) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.quirks.set(mode);
    }

    fn append_before_sibling(&self, sibling: &usize, new_node: NodeOrText<usize>) {
        let parent = self.nodes.borrow()[*sibling]
            .parent
            .expect("sibling has a parent");
        self.insert(parent, Some(*sibling), new_node);
    }

    fn add_attrs_if_missing(&self, target: &usize, new: Vec<Attribute>) {
        if let Data::Element { attrs, .. } = &mut self.nodes.borrow_mut()[*target].data {
            for attr in new {
                if !attrs.iter().any(|a| a.name == attr.name) {
                    attrs.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &usize) {
        self.detach(*target);
    }

    fn reparent_children(&self, node: &usize, new_parent: &usize) {
        let children = std::mem::take(&mut self.nodes.borrow_mut()[*node].children);
        for child in children {
            self.nodes.borrow_mut()[child].parent = None;
            self.insert(*new_parent, None, NodeOrText::AppendNode(child));
        }
    }
}
