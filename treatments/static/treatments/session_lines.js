// Number an injectate or site row added with "Add another" after the highest number in use.
'use strict';
document.addEventListener('formset:added', (event) => {
    const prefix = event.detail.formsetName;
    if (prefix !== 'injectates' && prefix !== 'sites') {
        return;
    }
    const input = event.target.querySelector(`input[name^="${prefix}-"][name$="-line"]`);
    if (!input || input.value) {
        return;
    }
    const used = Array.from(document.querySelectorAll(`input[name^="${prefix}-"][name$="-line"]`))
        .map((other) => parseInt(other.value, 10))
        .filter((number) => !Number.isNaN(number));
    input.value = Math.max(0, ...used) + 1;
});
