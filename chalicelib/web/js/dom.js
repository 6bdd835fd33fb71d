// Building elements without innerHTML: every text a user or a client wrote goes in as text.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// Client text may be in any script: "auto" lets the browser set Arabic right to left.
export function clientText(tag, text, props = {}) {
  return h(tag, { dir: "auto", ...props }, text ?? "");
}

// A labelled control, the label above it (one of the form's fields).
export function field(label, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

// What a form says about its fields: why a value was refused, next to the field (linked with
// aria-describedby, announced as an alert), else at the form's foot. Nothing typed is cleared:
// the values stay for the user to correct. `controls` maps the API's field names to controls.
export function formErrors(form, controls = {}) {
  const general = h("p", { class: "error form-error", role: "alert", hidden: true });
  form.append(general);
  const shown = new Map();  // control -> its error element

  function describe(control, id, on) {
    const ids = new Set((control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
    if (on) ids.add(id); else ids.delete(id);
    if (ids.size) control.setAttribute("aria-describedby", [...ids].join(" "));
    else control.removeAttribute("aria-describedby");
  }

  const errors = {
    clear() {
      for (const [control, note] of shown) {
        describe(control, note.id, false);
        control.removeAttribute("aria-invalid");
        note.remove();
      }
      shown.clear();
      general.hidden = true;
      general.textContent = "";
    },
    // Why `control`'s value is refused, next to it; focus goes there.
    field(control, message) {
      let note = shown.get(control);
      if (!note) {
        note = h("p", { class: "error field-error", role: "alert", id: `${control.id || "field"}-why` });
        const wrap = control.closest(".field, fieldset");
        if (wrap) wrap.append(note); else control.after(note);
        shown.set(control, note);
      }
      note.textContent = message;
      control.setAttribute("aria-invalid", "true");
      describe(control, note.id, true);
      control.focus();
    },
    // A message about the whole form.
    general(message) {
      general.textContent = message;
      general.hidden = false;
    },
    // An API refusal: next to the field it names when the form has it, else at the foot.
    api(err) {
      errors.clear();
      const control = err.field && controls[err.field];
      if (control) errors.field(control, err.message);
      else errors.general(err.message);
    },
  };
  return errors;
}
