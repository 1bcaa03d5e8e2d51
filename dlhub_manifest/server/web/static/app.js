// Progressive enhancement only: every page works without this file.
"use strict";

function setupCopyButtons() {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch (err) {
        button.textContent = "Select and copy";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }
}

function setupAutoSubmit() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    const form = select.form;
    for (const hidden of form.querySelectorAll(".js-hide")) hidden.hidden = true;
    select.addEventListener("change", () => form.submit());
  }
}

function addMessage(list, message) {
  const item = document.createElement("li");
  item.className = "level-" + message.level;
  const time = document.createElement("time");
  time.textContent = message.time;
  item.append(time, " " + message.text);
  list.append(item);
}

function followTask() {
  const list = document.getElementById("task-messages");
  if (!list || list.dataset.done === "true") return;
  let count = Number(list.dataset.count) || 0;
  let delay = 500;
  const status = document.getElementById("task-status");
  const poll = async () => {
    try {
      const response = await fetch(list.dataset.feed + "?after=" + count, {headers: {"Accept": "application/json"},
                                                                             credentials: "same-origin"});
      if (response.ok) {
        const data = await response.json();
        for (const message of data.messages) addMessage(list, message);
        count = data.count;
        status.textContent = data.status;
        status.className = "status-" + data.status;
        if (data.done) {
          list.dataset.done = "true";
          const following = document.getElementById("task-following");
          if (following) following.hidden = true;
          if (data.link) {
            document.getElementById("task-link").href = data.link;
            document.getElementById("task-result").hidden = false;
          }
          return;
        }
        delay = 500;
      } else {
        delay = Math.min(delay * 2, 10000);
      }
    } catch (err) {
      delay = Math.min(delay * 2, 10000);
    }
    setTimeout(poll, delay);
  };
  setTimeout(poll, delay);
}

document.addEventListener("DOMContentLoaded", () => {
  setupCopyButtons();
  setupAutoSubmit();
  followTask();
});
