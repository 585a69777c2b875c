/**
 * The chat template Mistral ships in tokenizer_config.json of Mixtral-8x7B-Instruct-v0.1 (the revised
 * one that accepts an optional leading system message). llama.cpp and node-llama-cpp recognise the
 * Mistral prompt format from this text, so it is kept verbatim.
 */
export const mixtralInstructChatTemplate =
    "{%- if messages[0]['role'] == 'system' %}\n" +
    "    {%- set system_message = messages[0]['content'] %}\n" +
    "    {%- set loop_messages = messages[1:] %}\n" +
    "{%- else %}\n" +
    "    {%- set loop_messages = messages %}\n" +
    "{%- endif %}\n" +
    "\n" +
    "{{- bos_token }}\n" +
    "{%- for message in loop_messages %}\n" +
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n" +
    "        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n" +
    "    {%- endif %}\n" +
    "    {%- if message['role'] == 'user' %}\n" +
    "        {%- if loop.first and system_message is defined %}\n" +
    "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n" +
    "        {%- else %}\n" +
    "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n" +
    "        {%- endif %}\n" +
    "    {%- elif message['role'] == 'assistant' %}\n" +
    "        {{- ' ' + message['content'] + eos_token}}\n" +
    "    {%- else %}\n" +
    "        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n" +
    "    {%- endif %}\n" +
    "{%- endfor %}\n";
