import { ChevronDown } from 'lucide-react';
import type { ReactNode } from 'react';
import {
  Button as AriaButton,
  FieldError,
  Input,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  Radio,
  RadioGroup as AriaRadioGroup,
  Select as AriaSelect,
  SelectValue,
  Switch as AriaSwitch,
  Text,
  TextField as AriaTextField,
  type Key,
} from 'react-aria-components';

/** A labelled text input with its description and error (react-aria ties them to the input). */
export function TextField({
  label,
  description,
  value,
  onChange,
  errorMessage,
  isRequired,
  placeholder,
  autoFocus,
  name,
  maxLength,
  type,
}: {
  label: string;
  description?: string;
  value: string;
  onChange: (value: string) => void;
  errorMessage?: string;
  isRequired?: boolean;
  placeholder?: string;
  autoFocus?: boolean;
  name?: string;
  maxLength?: number;
  type?: 'text' | 'search' | 'url' | 'password';
}) {
  return (
    <AriaTextField
      className="field"
      value={value}
      onChange={onChange}
      isRequired={isRequired}
      isInvalid={errorMessage !== undefined}
      autoFocus={autoFocus}
      name={name}
      maxLength={maxLength}
      type={type}
      validationBehavior="aria"
    >
      <Label className="field__label">{label}</Label>
      <Input className="input" placeholder={placeholder} />
      {description ? (
        <Text slot="description" className="field__description">
          {description}
        </Text>
      ) : null}
      <FieldError className="field__error">{errorMessage}</FieldError>
    </AriaTextField>
  );
}

export interface Choice<V extends string> {
  value: V;
  label: string;
  description?: string;
}

/** A set of radio buttons; each choice may explain itself in a line under its label. */
export function RadioGroup<V extends string>({
  label,
  value,
  onChange,
  choices,
  description,
  orientation = 'vertical',
}: {
  label: string;
  value: V;
  onChange: (value: V) => void;
  choices: readonly Choice<V>[];
  description?: string;
  orientation?: 'vertical' | 'horizontal';
}) {
  return (
    <AriaRadioGroup
      className={`radio-group radio-group--${orientation}`}
      value={value}
      onChange={(v) => onChange(v as V)}
      orientation={orientation}
    >
      <Label className="field__label">{label}</Label>
      {description ? (
        <Text slot="description" className="field__description">
          {description}
        </Text>
      ) : null}
      <div className="radio-group__choices">
        {choices.map((c) => (
          <Radio key={c.value} value={c.value} className="radio">
            <span className="radio__mark" aria-hidden="true" />
            <span className="radio__text">
              <span className="radio__label">{c.label}</span>
              {c.description ? <span className="radio__description">{c.description}</span> : null}
            </span>
          </Radio>
        ))}
      </div>
    </AriaRadioGroup>
  );
}

/** A drop-down choice (react-aria Select: a button that opens a listbox). */
export function Select<V extends string>({
  label,
  value,
  onChange,
  choices,
  description,
}: {
  label: string;
  value: V;
  onChange: (value: V) => void;
  choices: readonly Choice<V>[];
  description?: string;
}) {
  return (
    <AriaSelect
      className="field"
      selectedKey={value}
      onSelectionChange={(key: Key | null) => {
        if (key !== null) onChange(String(key) as V);
      }}
    >
      <Label className="field__label">{label}</Label>
      <AriaButton className="select__button">
        <SelectValue className="select__value" />
        <ChevronDown aria-hidden="true" size={18} />
      </AriaButton>
      {description ? (
        <Text slot="description" className="field__description">
          {description}
        </Text>
      ) : null}
      <Popover className="popover">
        <ListBox className="listbox">
          {choices.map((c) => (
            <ListBoxItem key={c.value} id={c.value} className="listbox__item" textValue={c.label}>
              {c.label}
            </ListBoxItem>
          ))}
        </ListBox>
      </Popover>
    </AriaSelect>
  );
}

/** An on/off switch whose label says what "on" means. */
export function Switch({
  children,
  isSelected,
  onChange,
  isDisabled,
}: {
  children: ReactNode;
  isSelected: boolean;
  onChange: (selected: boolean) => void;
  isDisabled?: boolean;
}) {
  return (
    <AriaSwitch className="switch" isSelected={isSelected} onChange={onChange} isDisabled={isDisabled}>
      <span className="switch__track" aria-hidden="true">
        <span className="switch__thumb" />
      </span>
      <span className="switch__label">{children}</span>
    </AriaSwitch>
  );
}
